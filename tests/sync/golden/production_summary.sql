-- reporting.production_summary: generated from datasets/production_summary.yaml; edit the spec, not this SQL.
CREATE OR REPLACE VIEW reporting.production_summary AS
SELECT
  CAST(f.grain AS TEXT) AS grain,
  CAST(f.key AS TEXT) AS key,
  CAST(MIN(f.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(f.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(f.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(f.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(COALESCE(SUM(f.gci) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_gci,
  CAST(COALESCE(SUM(f.gci) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_gci,
  CAST((
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'ytd'), 0) AS NUMERIC)
  ) - (
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'prior'), 0) AS NUMERIC)
  ) AS NUMERIC) AS yoy_gci_change,
  CAST((
    (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'ytd'), 0) AS NUMERIC)
    ) - (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'prior'), 0) AS NUMERIC)
    )
  ) / NULLIF(
    (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'prior'), 0) AS NUMERIC)
    ),
    0
  ) AS NUMERIC) AS yoy_gci_change_pct,
  CAST(COALESCE(SUM(f.adjusted_gci) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_adjusted_gci,
  CAST(COALESCE(SUM(f.adjusted_gci) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_adjusted_gci,
  CAST(COALESCE(SUM(f.volume) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_volume,
  CAST(COALESCE(SUM(f.volume) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_volume,
  CAST(COALESCE(SUM(f.units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_units,
  CAST(COALESCE(SUM(f.units) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_units,
  CAST(COALESCE(SUM(f.list_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_list_sides,
  CAST(COALESCE(SUM(f.buy_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_buy_sides,
  CAST(COALESCE(SUM(f.transactions) FILTER(WHERE
    f.period = 'ytd'), 0) AS BIGINT) AS ytd_transactions,
  CAST(COALESCE(SUM(f.transactions) FILTER(WHERE
    f.period = 'prior'), 0) AS BIGINT) AS prior_ytd_transactions,
  CAST(SUM(f.priced_volume) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.priced_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_average_price,
  CAST((
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'ytd'), 0) AS NUMERIC)
  ) / NULLIF(
    (
      CAST(COALESCE(SUM(f.units) FILTER(WHERE
        f.period = 'ytd'), 0) AS NUMERIC)
    ),
    0
  ) AS NUMERIC) AS ytd_average_commission,
  CAST(SUM(f.days_to_close_total) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.days_to_close_loops) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_average_days_to_close,
  CAST(SUM(f.days_on_market_total) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.days_on_market_loops) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_average_days_on_market,
  CAST(SUM(f.company_dollar) FILTER(WHERE
    f.period = 'ytd') AS NUMERIC) AS ytd_company_dollar,
  CAST(SUM(f.deal_fees) FILTER(WHERE
    f.period = 'ytd') AS NUMERIC) AS ytd_deal_fees,
  CAST(SUM(f.agent_net) FILTER(WHERE
    f.period = 'ytd') AS NUMERIC) AS ytd_agent_net
FROM reporting.production_pieces AS f
GROUP BY
  f.grain,
  f.key;

COMMENT ON VIEW reporting.production_summary IS 'Closed production year to date against the same days of the year before, one row per grain (''company'', ''office'', ''team'' or ''agent'') and key (the office or team name, the agent''s e-mail; '''' for the company). Year to date runs from January 1 of the anchor''s year to the anchor date (period_anchor: SET dotloop_reporter.anchor_date, else today); prior year to date from January 1 of the year before to the same month and day a year earlier (February 29 -> 28). Company and office rows add up reporting.loop_sides (the side''s office), team and agent rows reporting.agent_credits (the agent''s office and team). Offices and teams without a name, and keys with nothing closed in either period, have no row.';

COMMENT ON COLUMN reporting.production_summary.grain IS 'What a row adds up: ''company'', ''office'', ''team'' or ''agent''.';

COMMENT ON COLUMN reporting.production_summary.key IS 'The office or team name, or the agent''s e-mail; '''' for the company.';

COMMENT ON COLUMN reporting.production_summary.period_anchor IS 'The day year to date runs to: dotloop_reporter.anchor_date when set in the session, else today.';

COMMENT ON COLUMN reporting.production_summary.ytd_start IS 'January 1 of the anchor''s year, the first day of year to date.';

COMMENT ON COLUMN reporting.production_summary.prior_ytd_start IS 'January 1 of the year before, the first day of prior year to date.';

COMMENT ON COLUMN reporting.production_summary.prior_ytd_end IS 'The anchor''s month and day a year earlier (February 28 for February 29): the last day of prior year to date.';

COMMENT ON COLUMN reporting.production_summary.ytd_gci IS 'GCI of the sides (or credits) closed year to date.';

COMMENT ON COLUMN reporting.production_summary.prior_ytd_gci IS 'GCI closed prior year to date.';

COMMENT ON COLUMN reporting.production_summary.yoy_gci_change IS 'ytd_gci - prior_ytd_gci.';

COMMENT ON COLUMN reporting.production_summary.yoy_gci_change_pct IS 'yoy_gci_change / prior_ytd_gci as a fraction (0.25 = +25%); NULL when prior_ytd_gci is 0.';

COMMENT ON COLUMN reporting.production_summary.ytd_adjusted_gci IS 'GCI after outbound referral fees, closed year to date.';

COMMENT ON COLUMN reporting.production_summary.prior_ytd_adjusted_gci IS 'GCI after outbound referral fees, closed prior year to date.';

COMMENT ON COLUMN reporting.production_summary.ytd_volume IS 'Closed volume year to date.';

COMMENT ON COLUMN reporting.production_summary.prior_ytd_volume IS 'Closed volume prior year to date.';

COMMENT ON COLUMN reporting.production_summary.ytd_units IS 'Closed units (sides; an agent''s unit credits) year to date.';

COMMENT ON COLUMN reporting.production_summary.prior_ytd_units IS 'Closed units prior year to date.';

COMMENT ON COLUMN reporting.production_summary.ytd_list_sides IS 'Closed units on the sell (listing) side year to date.';

COMMENT ON COLUMN reporting.production_summary.ytd_buy_sides IS 'Closed units on the buy side year to date.';

COMMENT ON COLUMN reporting.production_summary.ytd_transactions IS 'Distinct loops closed year to date with a represented side (company, office) or a credit of the agent or of one of the team''s agents.';

COMMENT ON COLUMN reporting.production_summary.prior_ytd_transactions IS 'Distinct loops closed prior year to date, counted the same way.';

COMMENT ON COLUMN reporting.production_summary.ytd_average_price IS 'Average price per side year to date: volume / units over the closed sides (credits) with a volume and a unit (referrals left out).';

COMMENT ON COLUMN reporting.production_summary.ytd_average_commission IS 'Average commission per side year to date, ytd_gci / ytd_units.';

COMMENT ON COLUMN reporting.production_summary.ytd_average_days_to_close IS 'Average days from contract to closing over the distinct loops closed year to date (for a team, over its agents'' transactions: a loop two of them worked counts twice).';

COMMENT ON COLUMN reporting.production_summary.ytd_average_days_on_market IS 'Average days from listing to contract over the same loops as ytd_average_days_to_close.';

COMMENT ON COLUMN reporting.production_summary.ytd_company_dollar IS 'Company dollar of the credits closed year to date (team and agent rows; NULL on company and office rows and for agents without a plan).';

COMMENT ON COLUMN reporting.production_summary.ytd_deal_fees IS 'Per-deal fees of the credits closed year to date (as ytd_company_dollar).';

COMMENT ON COLUMN reporting.production_summary.ytd_agent_net IS 'Agent net of the credits closed year to date (as ytd_company_dollar).';
