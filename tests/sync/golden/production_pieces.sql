-- reporting.production_pieces: generated from datasets/production_pieces.yaml; edit the spec, not this SQL.
CREATE OR REPLACE VIEW reporting.production_pieces AS
SELECT
  CAST('company' AS TEXT) AS grain,
  CAST('' AS TEXT) AS key,
  CAST(CASE WHEN d.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS TEXT) AS period,
  CAST(p.period_anchor AS DATE) AS period_anchor,
  CAST(p.ytd_start AS DATE) AS ytd_start,
  CAST(p.prior_ytd_start AS DATE) AS prior_ytd_start,
  CAST(p.prior_ytd_end AS DATE) AS prior_ytd_end,
  CAST(d.units AS NUMERIC) AS units,
  CAST(CASE d.side WHEN 'sell' THEN d.units ELSE 0 END AS NUMERIC) AS list_units,
  CAST(CASE d.side WHEN 'buy' THEN d.units ELSE 0 END AS NUMERIC) AS buy_units,
  CAST(d.gci AS NUMERIC) AS gci,
  CAST(d.adjusted_gci AS NUMERIC) AS adjusted_gci,
  CAST(d.volume AS NUMERIC) AS volume,
  CAST(d.transactions AS BIGINT) AS transactions,
  CAST(d.priced_volume AS NUMERIC) AS priced_volume,
  CAST(d.priced_units AS NUMERIC) AS priced_units,
  CAST(d.days_to_close_total AS NUMERIC) AS days_to_close_total,
  CAST(d.days_to_close_loops AS NUMERIC) AS days_to_close_loops,
  CAST(d.days_on_market_total AS NUMERIC) AS days_on_market_total,
  CAST(d.days_on_market_loops AS NUMERIC) AS days_on_market_loops,
  CAST(NULL AS NUMERIC) AS company_dollar,
  CAST(NULL AS NUMERIC) AS deal_fees,
  CAST(NULL AS NUMERIC) AS agent_net
FROM reporting.daily_production AS d
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1 YEAR') AS DATE) AS prior_month
  FROM (
    SELECT
      reporting_lib.period_anchor() AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  d.closing_date BETWEEN CAST((
    DATE_TRUNC('YEAR', reporting_lib.period_anchor()) - INTERVAL '1 YEAR'
  ) AS DATE) AND reporting_lib.period_anchor()
  AND (
    d.closing_date >= p.ytd_start OR d.closing_date <= p.prior_ytd_end
  )
UNION ALL
SELECT
  CAST('office' AS TEXT) AS grain,
  CAST(d.office AS TEXT) AS key,
  CAST(CASE WHEN d.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS TEXT) AS period,
  CAST(p.period_anchor AS DATE) AS period_anchor,
  CAST(p.ytd_start AS DATE) AS ytd_start,
  CAST(p.prior_ytd_start AS DATE) AS prior_ytd_start,
  CAST(p.prior_ytd_end AS DATE) AS prior_ytd_end,
  CAST(d.units AS NUMERIC) AS units,
  CAST(CASE d.side WHEN 'sell' THEN d.units ELSE 0 END AS NUMERIC) AS list_units,
  CAST(CASE d.side WHEN 'buy' THEN d.units ELSE 0 END AS NUMERIC) AS buy_units,
  CAST(d.gci AS NUMERIC) AS gci,
  CAST(d.adjusted_gci AS NUMERIC) AS adjusted_gci,
  CAST(d.volume AS NUMERIC) AS volume,
  CAST(d.transactions AS BIGINT) AS transactions,
  CAST(d.priced_volume AS NUMERIC) AS priced_volume,
  CAST(d.priced_units AS NUMERIC) AS priced_units,
  CAST(d.days_to_close_total AS NUMERIC) AS days_to_close_total,
  CAST(d.days_to_close_loops AS NUMERIC) AS days_to_close_loops,
  CAST(d.days_on_market_total AS NUMERIC) AS days_on_market_total,
  CAST(d.days_on_market_loops AS NUMERIC) AS days_on_market_loops,
  CAST(NULL AS NUMERIC) AS company_dollar,
  CAST(NULL AS NUMERIC) AS deal_fees,
  CAST(NULL AS NUMERIC) AS agent_net
FROM reporting.daily_production AS d
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1 YEAR') AS DATE) AS prior_month
  FROM (
    SELECT
      reporting_lib.period_anchor() AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  NOT d.office IS NULL
  AND d.closing_date BETWEEN CAST((
    DATE_TRUNC('YEAR', reporting_lib.period_anchor()) - INTERVAL '1 YEAR'
  ) AS DATE) AND reporting_lib.period_anchor()
  AND (
    d.closing_date >= p.ytd_start OR d.closing_date <= p.prior_ytd_end
  )
UNION ALL
SELECT
  CAST('team' AS TEXT) AS grain,
  CAST(m.team AS TEXT) AS key,
  CAST(CASE WHEN m.closing_month >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS TEXT) AS period,
  CAST(MIN(p.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(p.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(p.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(p.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(SUM(m.units) AS NUMERIC) AS units,
  CAST(SUM(m.list_units) AS NUMERIC) AS list_units,
  CAST(SUM(m.buy_units) AS NUMERIC) AS buy_units,
  CAST(SUM(m.gci) AS NUMERIC) AS gci,
  CAST(SUM(m.adjusted_gci) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(m.volume) AS NUMERIC) AS volume,
  CAST(SUM(m.transactions) AS BIGINT) AS transactions,
  CAST(SUM(m.priced_volume) AS NUMERIC) AS priced_volume,
  CAST(SUM(m.priced_units) AS NUMERIC) AS priced_units,
  CAST(SUM(m.days_to_close_total) AS NUMERIC) AS days_to_close_total,
  CAST(SUM(m.days_to_close_loops) AS NUMERIC) AS days_to_close_loops,
  CAST(SUM(m.days_on_market_total) AS NUMERIC) AS days_on_market_total,
  CAST(SUM(m.days_on_market_loops) AS NUMERIC) AS days_on_market_loops,
  CAST(SUM(m.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(m.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(m.agent_net) AS NUMERIC) AS agent_net
FROM reporting.team_monthly_production AS m
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1 YEAR') AS DATE) AS prior_month
  FROM (
    SELECT
      reporting_lib.period_anchor() AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  m.closing_month >= CAST((
    DATE_TRUNC('YEAR', reporting_lib.period_anchor()) - INTERVAL '1 YEAR'
  ) AS DATE)
  AND m.closing_month < CAST(DATE_TRUNC('MONTH', reporting_lib.period_anchor()) AS DATE)
  AND (
    m.closing_month >= p.ytd_start OR m.closing_month < p.prior_month
  )
GROUP BY
  m.team,
  CASE WHEN m.closing_month >= p.ytd_start THEN 'ytd' ELSE 'prior' END
UNION ALL
SELECT
  CAST('team' AS TEXT) AS grain,
  CAST(c.team AS TEXT) AS key,
  CAST(CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS TEXT) AS period,
  CAST(MIN(p.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(p.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(p.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(p.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(SUM(c.unit_credit) AS NUMERIC) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS NUMERIC) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS NUMERIC) AS buy_units,
  CAST(SUM(c.gci_credit) AS NUMERIC) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS NUMERIC) AS volume,
  CAST(COUNT(DISTINCT c.loop_id) AS BIGINT) AS transactions,
  CAST(SUM(c.volume_credit) FILTER(WHERE
    c.unit_credit > 0) AS NUMERIC) AS priced_volume,
  CAST(SUM(c.unit_credit) FILTER(WHERE
    c.unit_credit > 0 AND NOT c.volume_credit IS NULL) AS NUMERIC) AS priced_units,
  CAST(SUM(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_total,
  CAST(COUNT(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_loops,
  CAST(SUM(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_total,
  CAST(COUNT(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_loops,
  CAST(SUM(c.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(c.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(c.agent_net) AS NUMERIC) AS agent_net
FROM reporting.agent_credits AS c
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1 YEAR') AS DATE) AS prior_month
  FROM (
    SELECT
      reporting_lib.period_anchor() AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  c.is_closed
  AND NOT c.team IS NULL
  AND (
    c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', reporting_lib.period_anchor()) AS DATE) AND reporting_lib.period_anchor()
    OR c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', reporting_lib.period_anchor() - INTERVAL '1 YEAR') AS DATE) AND CAST((
      reporting_lib.period_anchor() - INTERVAL '1 YEAR'
    ) AS DATE)
  )
GROUP BY
  c.team,
  CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END
UNION ALL
SELECT
  CAST('agent' AS TEXT) AS grain,
  CAST(y.agent_email AS TEXT) AS key,
  CAST(CASE WHEN y.through_month >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS TEXT) AS period,
  CAST(p.period_anchor AS DATE) AS period_anchor,
  CAST(p.ytd_start AS DATE) AS ytd_start,
  CAST(p.prior_ytd_start AS DATE) AS prior_ytd_start,
  CAST(p.prior_ytd_end AS DATE) AS prior_ytd_end,
  CAST(y.units AS NUMERIC) AS units,
  CAST(y.list_units AS NUMERIC) AS list_units,
  CAST(y.buy_units AS NUMERIC) AS buy_units,
  CAST(y.gci AS NUMERIC) AS gci,
  CAST(y.adjusted_gci AS NUMERIC) AS adjusted_gci,
  CAST(y.volume AS NUMERIC) AS volume,
  CAST(y.transactions AS BIGINT) AS transactions,
  CAST(y.priced_volume AS NUMERIC) AS priced_volume,
  CAST(y.priced_units AS NUMERIC) AS priced_units,
  CAST(y.days_to_close_total AS NUMERIC) AS days_to_close_total,
  CAST(y.days_to_close_loops AS NUMERIC) AS days_to_close_loops,
  CAST(y.days_on_market_total AS NUMERIC) AS days_on_market_total,
  CAST(y.days_on_market_loops AS NUMERIC) AS days_on_market_loops,
  CAST(y.company_dollar AS NUMERIC) AS company_dollar,
  CAST(y.deal_fees AS NUMERIC) AS deal_fees,
  CAST(y.agent_net AS NUMERIC) AS agent_net
FROM reporting.agent_ytd_production AS y
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1 YEAR') AS DATE) AS prior_month
  FROM (
    SELECT
      reporting_lib.period_anchor() AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  y.through_month IN (
    CAST((
      DATE_TRUNC('MONTH', reporting_lib.period_anchor()) - INTERVAL '1 MONTH'
    ) AS DATE),
    CAST((
      DATE_TRUNC('MONTH', reporting_lib.period_anchor() - INTERVAL '1 YEAR') - INTERVAL '1 MONTH'
    ) AS DATE)
  )
  AND y.through_month >= CAST((
    DATE_TRUNC('YEAR', reporting_lib.period_anchor()) - INTERVAL '1 YEAR'
  ) AS DATE)
  AND (
    y.through_month >= p.ytd_start OR y.through_month < p.prior_month
  )
UNION ALL
SELECT
  CAST('agent' AS TEXT) AS grain,
  CAST(c.agent_email AS TEXT) AS key,
  CAST(CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS TEXT) AS period,
  CAST(MIN(p.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(p.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(p.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(p.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(SUM(c.unit_credit) AS NUMERIC) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS NUMERIC) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS NUMERIC) AS buy_units,
  CAST(SUM(c.gci_credit) AS NUMERIC) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS NUMERIC) AS volume,
  CAST(SUM(c.transactions) AS BIGINT) AS transactions,
  CAST(SUM(c.volume_credit) FILTER(WHERE
    c.unit_credit > 0) AS NUMERIC) AS priced_volume,
  CAST(SUM(c.unit_credit) FILTER(WHERE
    c.unit_credit > 0 AND NOT c.volume_credit IS NULL) AS NUMERIC) AS priced_units,
  CAST(SUM(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_total,
  CAST(COUNT(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_loops,
  CAST(SUM(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_total,
  CAST(COUNT(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_loops,
  CAST(SUM(c.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(c.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(c.agent_net) AS NUMERIC) AS agent_net
FROM reporting.agent_credits AS c
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1 YEAR'
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1 YEAR') AS DATE) AS prior_month
  FROM (
    SELECT
      reporting_lib.period_anchor() AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  c.is_closed
  AND (
    c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', reporting_lib.period_anchor()) AS DATE) AND reporting_lib.period_anchor()
    OR c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', reporting_lib.period_anchor() - INTERVAL '1 YEAR') AS DATE) AND CAST((
      reporting_lib.period_anchor() - INTERVAL '1 YEAR'
    ) AS DATE)
  )
GROUP BY
  c.agent_email,
  CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END;

COMMENT ON VIEW reporting.production_pieces IS 'The pieces reporting.production_summary adds up, each with its grain (''company'', ''office'', ''team'' or ''agent''), key and period (''ytd'': from January 1 of the anchor''s year to the anchor date; ''prior'': from January 1 of the year before to the same month and day a year earlier). Company and office pieces are days of reporting.daily_production; team pieces whole months of reporting.team_monthly_production, agent pieces the months up to each period''s last month added up (reporting.agent_ytd_production); and for the month of each period''s last day the credits themselves up to that day.';

COMMENT ON COLUMN reporting.production_pieces.grain IS 'What the piece counts for: ''company'', ''office'', ''team'' or ''agent''.';

COMMENT ON COLUMN reporting.production_pieces.key IS 'The office or team name, or the agent''s e-mail; '''' for the company.';

COMMENT ON COLUMN reporting.production_pieces.period IS '''ytd'' (year to date) or ''prior'' (prior year to date).';

COMMENT ON COLUMN reporting.production_pieces.period_anchor IS 'The day year to date runs to: dotloop_reporter.anchor_date when set in the session, else today.';

COMMENT ON COLUMN reporting.production_pieces.ytd_start IS 'January 1 of the anchor''s year.';

COMMENT ON COLUMN reporting.production_pieces.prior_ytd_start IS 'January 1 of the year before.';

COMMENT ON COLUMN reporting.production_pieces.prior_ytd_end IS 'The anchor''s month and day a year earlier (February 28 for 29).';

COMMENT ON COLUMN reporting.production_pieces.units IS 'Closed units (sides; for teams and agents, unit credits).';

COMMENT ON COLUMN reporting.production_pieces.list_units IS 'Of those, on the sell (listing) side.';

COMMENT ON COLUMN reporting.production_pieces.buy_units IS 'Of those, on the buy side.';

COMMENT ON COLUMN reporting.production_pieces.gci IS 'Closed GCI (for teams and agents, GCI credits).';

COMMENT ON COLUMN reporting.production_pieces.adjusted_gci IS 'Closed GCI after outbound referral fees.';

COMMENT ON COLUMN reporting.production_pieces.volume IS 'Closed volume.';

COMMENT ON COLUMN reporting.production_pieces.transactions IS 'Distinct closed loops, counted as production_summary says.';

COMMENT ON COLUMN reporting.production_pieces.priced_volume IS 'Volume of sides with a price and a unit.';

COMMENT ON COLUMN reporting.production_pieces.priced_units IS 'Units of sides with a price.';

COMMENT ON COLUMN reporting.production_pieces.days_to_close_total IS 'Days from contract to closing added up over loops.';

COMMENT ON COLUMN reporting.production_pieces.days_to_close_loops IS 'How many loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.production_pieces.days_on_market_total IS 'Days from listing to contract added up over loops.';

COMMENT ON COLUMN reporting.production_pieces.days_on_market_loops IS 'How many loops days_on_market_total adds up.';

COMMENT ON COLUMN reporting.production_pieces.company_dollar IS 'Company dollar (team and agent pieces only).';

COMMENT ON COLUMN reporting.production_pieces.deal_fees IS 'Per-deal fees (team and agent pieces only).';

COMMENT ON COLUMN reporting.production_pieces.agent_net IS 'Agent net (team and agent pieces only).';
