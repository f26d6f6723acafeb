-- The reporting schema of dotloop-reporter for duckdb, generated from datasets/*.yaml by sqlglot.
-- Fast tables are written with their columns and comments; fill them from the Postgres tables of the same names in reporting.
-- Left out: the parsing views (reporting_lib.*), which call Postgres parse functions and jsonb operators on the stored payloads.
-- Year to date runs to the current date: period_anchor() and its setting are Postgres's.
-- Left out: sync_freshness: reads the dotloop_raw schema, which stays in Postgres.
-- Left out: sync_runs: reads the dotloop_raw schema, which stays in Postgres.
-- Left out: agents: reads the brokerage configuration, which stays in Postgres.

CREATE TABLE reporting.loops (
  loop_id BIGINT,
  profile_id BIGINT,
  name TEXT,
  transaction_type TEXT,
  status TEXT,
  is_lease BOOLEAN,
  represented_side TEXT,
  is_closed BOOLEAN,
  created TIMESTAMPTZ,
  updated TIMESTAMPTZ,
  loop_url TEXT,
  street_number TEXT,
  street_name TEXT,
  unit_number TEXT,
  street_address TEXT,
  city TEXT,
  state TEXT,
  postal_code TEXT,
  county TEXT,
  country TEXT,
  mls_number TEXT,
  price DECIMAL(38, 9),
  commission_rate DECIMAL(38, 9),
  commission_total DECIMAL(38, 9),
  buy_side_split_percent DECIMAL(38, 9),
  sell_side_split_percent DECIMAL(38, 9),
  buy_side_split_amount DECIMAL(38, 9),
  sell_side_split_amount DECIMAL(38, 9),
  buy_side_split_entered BOOLEAN,
  sell_side_split_entered BOOLEAN,
  earnest_money DECIMAL(38, 9),
  rent DECIMAL(38, 9),
  rent_commission DECIMAL(38, 9),
  price_missing BOOLEAN,
  deal_commission DECIMAL(38, 9),
  contract_date DATE,
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  listing_date DATE,
  original_price DECIMAL(38, 9),
  current_price DECIMAL(38, 9),
  referral_percent DECIMAL(38, 9),
  referral_source TEXT,
  days_to_close INT,
  days_on_market INT,
  unparsed_fields JSON
);

COMMENT ON TABLE reporting.loops IS 'One row per Dotloop loop the brokerage can see (loops removed from Dotloop are left out), with its details read into types. Money is in the loop''s currency, percentages are fractions (0.06 = 6%). A detail that holds a value which cannot be read is NULL here and listed in unparsed_fields and in reporting.data_quality.';

COMMENT ON COLUMN reporting.loops.loop_id IS 'Dotloop''s id of the loop, the number in the loop''s URL (not the "Loop ID" shown among the loop''s details).';

COMMENT ON COLUMN reporting.loops.profile_id IS 'The Dotloop profile the loop belongs to: profileId from the loop itself, else the lowest-numbered profile through which it was seen.';

COMMENT ON COLUMN reporting.loops.name IS 'The loop''s name as shown in Dotloop, usually the property address.';

COMMENT ON COLUMN reporting.loops.transaction_type IS 'Dotloop''s transaction type: PURCHASE_OFFER, LISTING_FOR_SALE, LISTING_FOR_LEASE, LEASE_OFFER, REAL_ESTATE_OTHER or OTHER (unknown values are kept as they come).';

COMMENT ON COLUMN reporting.loops.status IS 'Dotloop''s loop status, such as PRE_OFFER, ACTIVE_LISTING, UNDER_CONTRACT, SOLD, LEASED or ARCHIVED.';

COMMENT ON COLUMN reporting.loops.is_lease IS 'True for lease transactions (LEASE_OFFER, LISTING_FOR_LEASE).';

COMMENT ON COLUMN reporting.loops.represented_side IS 'The side the transaction type represents: ''buy'' for purchase and lease offers, ''sell'' for listings; NULL for other types, which count no side (reporting.loop_sides adds the other side for dual agency).';

COMMENT ON COLUMN reporting.loops.is_closed IS 'True when the deal closed: status SOLD, or LEASED for a lease. A closed deal counts in the period of its closing_date.';

COMMENT ON COLUMN reporting.loops.created IS 'When the loop was created in Dotloop.';

COMMENT ON COLUMN reporting.loops.updated IS 'When the loop last changed in Dotloop.';

COMMENT ON COLUMN reporting.loops.loop_url IS 'Link that opens the loop in Dotloop.';

COMMENT ON COLUMN reporting.loops.street_number IS 'Property Address / Street Number.';

COMMENT ON COLUMN reporting.loops.street_name IS 'Property Address / Street Name.';

COMMENT ON COLUMN reporting.loops.unit_number IS 'Property Address / Unit Number.';

COMMENT ON COLUMN reporting.loops.street_address IS 'Street number, street name and unit on one line.';

COMMENT ON COLUMN reporting.loops.city IS 'Property Address / City.';

COMMENT ON COLUMN reporting.loops.state IS 'Property Address / State/Prov (state or province).';

COMMENT ON COLUMN reporting.loops.postal_code IS 'Property Address / Zip/Postal Code.';

COMMENT ON COLUMN reporting.loops.county IS 'Property Address / County.';

COMMENT ON COLUMN reporting.loops.country IS 'Property Address / Country.';

COMMENT ON COLUMN reporting.loops.mls_number IS 'Property Address / MLS Number.';

COMMENT ON COLUMN reporting.loops.price IS 'Financials / Purchase/Sale Price.';

COMMENT ON COLUMN reporting.loops.commission_rate IS 'Financials / Sale Commission Rate as a fraction of the price (0.06 = 6%).';

COMMENT ON COLUMN reporting.loops.commission_total IS 'Financials / Sale Commission Total, as entered.';

COMMENT ON COLUMN reporting.loops.buy_side_split_percent IS 'Financials / Sale Commission Split % - Buy Side: the buy side''s share of the total commission, as a fraction (0.5 = half).';

COMMENT ON COLUMN reporting.loops.sell_side_split_percent IS 'Financials / Sale Commission Split % - Sell Side: the sell side''s share of the total commission, as a fraction (0.5 = half).';

COMMENT ON COLUMN reporting.loops.buy_side_split_amount IS 'Financials / Sale Commission Split $ - Buy Side.';

COMMENT ON COLUMN reporting.loops.sell_side_split_amount IS 'Financials / Sale Commission Split $ - Sell Side.';

COMMENT ON COLUMN reporting.loops.buy_side_split_entered IS 'True when either buy-side split field (% or $) holds something, readable or not.';

COMMENT ON COLUMN reporting.loops.sell_side_split_entered IS 'True when either sell-side split field (% or $) holds something, readable or not.';

COMMENT ON COLUMN reporting.loops.earnest_money IS 'Financials / Earnest Money Amount.';

COMMENT ON COLUMN reporting.loops.rent IS 'Financials / Rent (leases).';

COMMENT ON COLUMN reporting.loops.rent_commission IS 'Financials / Rent Commission Amount (leases).';

COMMENT ON COLUMN reporting.loops.price_missing IS 'True when the deal has no price: Purchase/Sale Price (and, on a lease, Rent) is 0, empty or a placeholder such as n/a. An unreadable price is not missing. A loop with a commission but no price is a referral.';

COMMENT ON COLUMN reporting.loops.deal_commission IS 'The deal''s total commission, split between the sides: Sale Commission Total; else price x Sale Commission Rate; else, for a lease, Rent Commission Amount. NULL when none is available.';

COMMENT ON COLUMN reporting.loops.contract_date IS 'Contract Dates / Contract Agreement Date.';

COMMENT ON COLUMN reporting.loops.closing_date IS 'Contract Dates / Closing Date. A closed deal belongs to the period of this date; a closed loop without one is left out of every period and listed in reporting.data_quality.';

COMMENT ON COLUMN reporting.loops.closing_month IS 'First day of the month of closing_date, for monthly charts.';

COMMENT ON COLUMN reporting.loops.closing_year IS 'The year of closing_date, for yearly charts and filters.';

COMMENT ON COLUMN reporting.loops.listing_date IS 'Listing Information / Listing Date.';

COMMENT ON COLUMN reporting.loops.original_price IS 'Listing Information / Original Price.';

COMMENT ON COLUMN reporting.loops.current_price IS 'Listing Information / Current Price.';

COMMENT ON COLUMN reporting.loops.referral_percent IS 'Referral / Referral % as a fraction (0.25 = 25%).';

COMMENT ON COLUMN reporting.loops.referral_source IS 'Referral / Referral Source.';

COMMENT ON COLUMN reporting.loops.days_to_close IS 'Days from the Contract Agreement Date to the Closing Date.';

COMMENT ON COLUMN reporting.loops.days_on_market IS 'Days from the Listing Date to the Contract Agreement Date.';

COMMENT ON COLUMN reporting.loops.unparsed_fields IS 'The typed fields above whose Dotloop value could not be read, as {"column": {"label": "Section / Field", "parse": "money", "value": "as entered"}}; {} when every value was read or empty.';

CREATE TABLE reporting.loop_participants (
  loop_id BIGINT,
  profile_id BIGINT,
  participant_order INT,
  participant_id BIGINT,
  full_name TEXT,
  email TEXT,
  role TEXT,
  agent_side TEXT
);

COMMENT ON TABLE reporting.loop_participants IS 'One row per participant of a loop in reporting.loops: buyers, sellers, agents, brokers, lenders and others, with the role they hold in that loop. Agents are identified by e-mail, trimmed and lower-cased.';

COMMENT ON COLUMN reporting.loop_participants.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.loop_participants.profile_id IS 'The Dotloop profile the loop belongs to (reporting.loops.profile_id).';

COMMENT ON COLUMN reporting.loop_participants.participant_order IS 'Position of the participant in the loop''s participant list, from 1.';

COMMENT ON COLUMN reporting.loop_participants.participant_id IS 'Dotloop''s id of the participant within the loop.';

COMMENT ON COLUMN reporting.loop_participants.full_name IS 'The participant''s name as entered in the loop.';

COMMENT ON COLUMN reporting.loop_participants.email IS 'The participant''s e-mail address, trimmed and lower-cased: the key that identifies an agent across loops and profiles.';

COMMENT ON COLUMN reporting.loop_participants.role IS 'The participant''s role in the loop, such as LISTING_AGENT, BUYING_AGENT, TENANT_AGENT, BUYER, SELLER, MANAGING_BROKER or ADMIN.';

COMMENT ON COLUMN reporting.loop_participants.agent_side IS 'The side this participant works as an agent: ''sell'' for a LISTING_AGENT, ''buy'' for a BUYING_AGENT or, on a lease, a TENANT_AGENT; NULL for every other role.';

CREATE TABLE reporting.loop_sides (
  loop_id BIGINT,
  profile_id BIGINT,
  office TEXT,
  loop_name TEXT,
  transaction_type TEXT,
  status TEXT,
  side TEXT,
  agent_count INT,
  is_dual_agency BOOLEAN,
  is_closed BOOLEAN,
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  loop_updated TIMESTAMPTZ,
  contract_date DATE,
  listing_date DATE,
  days_to_close INT,
  days_on_market INT,
  projected_close_month DATE,
  price DECIMAL(38, 9),
  deal_commission DECIMAL(38, 9),
  split_amount DECIMAL(38, 9),
  split_percent DECIMAL(38, 9),
  gci_rule TEXT,
  gci DECIMAL(38, 9),
  referral_percent DECIMAL(38, 9),
  referral_fee DECIMAL(38, 9),
  adjusted_gci DECIMAL(38, 9),
  is_referral_only BOOLEAN,
  volume DECIMAL(38, 9),
  units DECIMAL(38, 9),
  transactions INT,
  agents_without_email TEXT
);

COMMENT ON TABLE reporting.loop_sides IS 'One row per loop and represented side (''buy'' or ''sell''). Purchase and lease offers are the buy side, listings the sell side; a loop with both a listing and a buying agent and both sides'' commission split filled counts both sides (dual agency). Once a roster of the brokerage''s own agents is loaded (reporting_config.agent), a side counts only when one of them works it: the side of a cooperating agent from another brokerage is left out and listed in reporting.data_quality. Sum gci, volume and units over rows with is_closed, by closing_month, for production; company and office totals come from this view, never from summing agent credits.';

COMMENT ON COLUMN reporting.loop_sides.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.loop_sides.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.loop_sides.office IS 'The office of the side: the office whose Dotloop profiles include the loop''s profile (reporting_config.office_profile); NULL when no office has it.';

COMMENT ON COLUMN reporting.loop_sides.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.loop_sides.transaction_type IS 'The loop''s Dotloop transaction type.';

COMMENT ON COLUMN reporting.loop_sides.status IS 'The loop''s Dotloop status.';

COMMENT ON COLUMN reporting.loop_sides.side IS 'The represented side, ''buy'' or ''sell''.';

COMMENT ON COLUMN reporting.loop_sides.agent_count IS 'How many agents share this side''s GCI, volume and unit equally in reporting.agent_credits: the side''s agents with an e-mail (LISTING_AGENTs on the sell side; BUYING_AGENTs, or TENANT_AGENTs on a lease, on the buy side) or, once a roster is loaded, those of them on the roster; an e-mail listed twice on the side counts once.';

COMMENT ON COLUMN reporting.loop_sides.is_dual_agency IS 'True when the loop counts both sides: it has a LISTING_AGENT and a BUYING_AGENT (or, on a lease, TENANT_AGENT), the commission split of both sides is filled and, once a roster is loaded, both sides have an agent on it. With a roster, a side only an agent of another brokerage works does not count, whichever side the transaction type represents.';

COMMENT ON COLUMN reporting.loop_sides.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.loop_sides.closing_date IS 'The deal''s closing date; a closed side without one is in no period and is listed in reporting.data_quality.';

COMMENT ON COLUMN reporting.loop_sides.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.loop_sides.closing_year IS 'The year of closing_date.';

COMMENT ON COLUMN reporting.loop_sides.loop_updated IS 'When the loop last changed in Dotloop.';

COMMENT ON COLUMN reporting.loop_sides.contract_date IS 'Contract Dates / Contract Agreement Date of the loop.';

COMMENT ON COLUMN reporting.loop_sides.listing_date IS 'Listing Information / Listing Date of the loop.';

COMMENT ON COLUMN reporting.loop_sides.days_to_close IS 'Days from the Contract Agreement Date to the Closing Date, a figure of the loop: average it over distinct loops (rows with transactions = 1).';

COMMENT ON COLUMN reporting.loop_sides.days_on_market IS 'Days from the Listing Date to the Contract Agreement Date, a figure of the loop: average it over distinct loops (rows with transactions = 1).';

COMMENT ON COLUMN reporting.loop_sides.projected_close_month IS 'For the pipeline: the month of the Closing Date of an UNDER_CONTRACT loop, when it is expected to close; NULL for every other status and when the date is missing (then listed in reporting.data_quality).';

COMMENT ON COLUMN reporting.loop_sides.price IS 'The deal''s Purchase/Sale Price.';

COMMENT ON COLUMN reporting.loop_sides.deal_commission IS 'The deal''s total commission before the split between the sides (see reporting.loops.deal_commission).';

COMMENT ON COLUMN reporting.loop_sides.split_amount IS 'This side''s Sale Commission Split $.';

COMMENT ON COLUMN reporting.loop_sides.split_percent IS 'This side''s Sale Commission Split % as a fraction.';

COMMENT ON COLUMN reporting.loop_sides.gci_rule IS 'Which rule gave the GCI, the first that yields a value: ''split_amount'' (this side''s Sale Commission Split $), ''split_percent'' (deal_commission x this side''s Split %), ''total_commission'' (a single-side loop with no split filled gets the whole deal_commission); NULL when none applies and gci is unknown.';

COMMENT ON COLUMN reporting.loop_sides.gci IS 'Gross commission income of this side, by gci_rule; NULL when it cannot be derived (listed in reporting.data_quality for closed and under-contract sides). Set for open sides too, as the pipeline''s expected GCI: filter is_closed for production.';

COMMENT ON COLUMN reporting.loop_sides.referral_percent IS 'Referral / Referral % of the loop as a fraction (0.25 = 25%): the outbound referral fee''s share of the GCI.';

COMMENT ON COLUMN reporting.loop_sides.referral_fee IS 'The outbound referral fee of this side: gci x referral_percent, 0 when Referral % is empty; NULL when the GCI is unknown or Referral % holds something unreadable (listed in reporting.data_quality).';

COMMENT ON COLUMN reporting.loop_sides.adjusted_gci IS 'GCI after the outbound referral fee (gci - referral_fee): what the brokerage and its agents share.';

COMMENT ON COLUMN reporting.loop_sides.is_referral_only IS 'True for a referral: a commission with no deal price (missing or 0). It adds GCI but no volume and no unit.';

COMMENT ON COLUMN reporting.loop_sides.volume IS 'The side''s sales volume: the Purchase/Sale Price; for a lease without a price, the Rent as entered (one rent payment, not the lease''s total); 0 for a referral; NULL when the price is missing or unreadable. Filter is_closed for closed volume.';

COMMENT ON COLUMN reporting.loop_sides.units IS 'The side counted as a unit: 1, or 0 for a referral. Filter is_closed for closed units; side = ''sell'' gives list sides, ''buy'' buy sides. Average price per side is sum(volume) / sum(units) over closed sides with a volume and a unit; average commission per side sum(gci) / sum(units).';

COMMENT ON COLUMN reporting.loop_sides.transactions IS '1 on one represented side of each loop (the sell side when both count), 0 on the other: sum it over closed sides for transactions, the distinct closed loops (a dual-agency deal is two units but one transaction).';

COMMENT ON COLUMN reporting.loop_sides.agents_without_email IS 'Names of this side''s agents who have no e-mail and so get no credit, comma-separated; NULL when there are none.';

CREATE TABLE reporting.agent_credits (
  loop_id BIGINT,
  profile_id BIGINT,
  office TEXT,
  team TEXT,
  loop_name TEXT,
  side TEXT,
  agent_email TEXT,
  agent_name TEXT,
  agent_role TEXT,
  transaction_type TEXT,
  status TEXT,
  is_closed BOOLEAN,
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  projected_close_month DATE,
  days_to_close INT,
  days_on_market INT,
  agents_on_side INT,
  gci_credit DECIMAL(38, 9),
  volume_credit DECIMAL(38, 9),
  unit_credit DECIMAL(38, 9),
  referral_fee_credit DECIMAL(38, 9),
  adjusted_gci_credit DECIMAL(38, 9),
  transactions INT,
  gci_rule TEXT,
  plan_name TEXT,
  cap_year_start DATE,
  pre_cap_company_dollar DECIMAL(38, 9),
  company_dollar DECIMAL(38, 9),
  deal_fees DECIMAL(38, 9),
  agent_net DECIMAL(38, 9),
  name_on_loop TEXT,
  loop_updated TIMESTAMPTZ,
  plan_cap DECIMAL(38, 9)
);

COMMENT ON TABLE reporting.agent_credits IS 'One row per loop, represented side and agent working it: a LISTING_AGENT on the sell side; a BUYING_AGENT, or TENANT_AGENT on a lease, on the buy side. The agents of a side share its GCI, volume and unit equally. Agents are identified by e-mail (lower-cased); agents without one get no credit and, once a roster is loaded (reporting_config.agent), only roster agents get credits; an agent listed twice on a side (the e-mail in another case) gets one credit, from the first listing. With a commission plan, each closed credit shows the company dollar (capped per cap year), the per-deal fees and the agent''s net. Sum the credits over rows with is_closed for an agent''s or a team''s production; company and office totals come from reporting.loop_sides, which also counts sides without an agent.';

COMMENT ON COLUMN reporting.agent_credits.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.agent_credits.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.agent_credits.office IS 'The office the credit counts for: the agent''s office on the roster, else the office of the side (reporting.loop_sides.office).';

COMMENT ON COLUMN reporting.agent_credits.team IS 'The agent''s team on the roster; NULL without one.';

COMMENT ON COLUMN reporting.agent_credits.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.agent_credits.side IS 'The side the agent worked, ''buy'' or ''sell''.';

COMMENT ON COLUMN reporting.agent_credits.agent_email IS 'The agent''s e-mail address, lower-cased; identifies the agent.';

COMMENT ON COLUMN reporting.agent_credits.agent_name IS 'The agent''s name: the roster''s, else the one on the most recently updated loop where this e-mail works a side (the e-mail when no loop has a name).';

COMMENT ON COLUMN reporting.agent_credits.agent_role IS 'The agent''s role in the loop: LISTING_AGENT, BUYING_AGENT or TENANT_AGENT.';

COMMENT ON COLUMN reporting.agent_credits.transaction_type IS 'The loop''s Dotloop transaction type.';

COMMENT ON COLUMN reporting.agent_credits.status IS 'The loop''s Dotloop status.';

COMMENT ON COLUMN reporting.agent_credits.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.agent_credits.closing_date IS 'The deal''s closing date.';

COMMENT ON COLUMN reporting.agent_credits.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.agent_credits.closing_year IS 'The year of closing_date.';

COMMENT ON COLUMN reporting.agent_credits.projected_close_month IS 'For the pipeline: the month an UNDER_CONTRACT loop is expected to close (reporting.loop_sides.projected_close_month).';

COMMENT ON COLUMN reporting.agent_credits.days_to_close IS 'Days from the Contract Agreement Date to the Closing Date of the loop; average it over the agent''s rows with transactions = 1.';

COMMENT ON COLUMN reporting.agent_credits.days_on_market IS 'Days from the Listing Date to the Contract Agreement Date of the loop; average it over the agent''s rows with transactions = 1.';

COMMENT ON COLUMN reporting.agent_credits.agents_on_side IS 'How many agents share this side.';

COMMENT ON COLUMN reporting.agent_credits.gci_credit IS 'The agent''s share of the side''s GCI (reporting.loop_sides.gci divided by agents_on_side, unrounded); NULL when the side''s GCI is unknown.';

COMMENT ON COLUMN reporting.agent_credits.volume_credit IS 'The agent''s share of the side''s volume.';

COMMENT ON COLUMN reporting.agent_credits.unit_credit IS 'The agent''s share of the side''s unit (0.5 for one of two agents); by side, the agent''s list sides and buy sides.';

COMMENT ON COLUMN reporting.agent_credits.referral_fee_credit IS 'The agent''s share of the side''s outbound referral fee.';

COMMENT ON COLUMN reporting.agent_credits.adjusted_gci_credit IS 'The agent''s share of the side''s GCI after the referral fee (reporting.loop_sides.adjusted_gci divided by agents_on_side).';

COMMENT ON COLUMN reporting.agent_credits.transactions IS '1 on the agent''s first row of each loop, else 0: summed over closed rows, the agent''s transactions (distinct closed loops with a credit). Not additive across agents: a loop two agents share is one transaction of the company.';

COMMENT ON COLUMN reporting.agent_credits.gci_rule IS 'The rule that gave the side''s GCI: ''split_amount'', ''split_percent'', ''total_commission'', or NULL when the GCI is unknown.';

COMMENT ON COLUMN reporting.agent_credits.plan_name IS 'The agent''s commission plan on the roster (reporting_config.plan); NULL without one, and then the plan figures below are NULL too.';

COMMENT ON COLUMN reporting.agent_credits.cap_year_start IS 'First day of the agent''s cap year holding the closing date: the latest anniversary month and day (January 1 without one) on or before it. Set on closed credits with a closing date and a plan.';

COMMENT ON COLUMN reporting.agent_credits.pre_cap_company_dollar IS 'The company''s share of adjusted_gci_credit by the plan''s split, before the cap: adjusted_gci_credit x (100 - agent_split_percent) / 100.';

COMMENT ON COLUMN reporting.agent_credits.company_dollar IS 'What the brokerage keeps of this credit: pre_cap_company_dollar, but no more than what is left of the plan''s cap in the cap year once the agent''s earlier closed credits of that year (by closing date, loop and side) have paid theirs; without a cap, pre_cap_company_dollar. NULL without a plan or when the GCI is unknown (which pays nothing toward the cap).';

COMMENT ON COLUMN reporting.agent_credits.deal_fees IS 'The plan''s per-deal fee for this closed credit: per_deal_fee x unit_credit (a referral, with no unit, pays none).';

COMMENT ON COLUMN reporting.agent_credits.agent_net IS 'What the agent takes home of this credit: adjusted_gci_credit - company_dollar - deal_fees.';

COMMENT ON COLUMN reporting.agent_credits.name_on_loop IS 'The agent''s name as this credit gives it: the roster''s, else the participant''s full name on the loop (agent_name picks one per agent).';

COMMENT ON COLUMN reporting.agent_credits.loop_updated IS 'When the loop was last updated in Dotloop.';

COMMENT ON COLUMN reporting.agent_credits.plan_cap IS 'The cap of the agent''s plan (reporting_config.plan.cap); NULL without a plan or a cap.';

CREATE TABLE reporting.daily_production (
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  profile_id BIGINT,
  office TEXT,
  side TEXT,
  transaction_type TEXT,
  sides BIGINT,
  units DECIMAL(38, 9),
  gci DECIMAL(38, 9),
  adjusted_gci DECIMAL(38, 9),
  volume DECIMAL(38, 9),
  transactions BIGINT,
  priced_volume DECIMAL(38, 9),
  priced_units DECIMAL(38, 9),
  days_to_close_total BIGINT,
  days_to_close_loops BIGINT,
  days_on_market_total BIGINT,
  days_on_market_loops BIGINT
);

COMMENT ON TABLE reporting.daily_production IS 'Closed production added up per closing day, Dotloop profile (office), side and transaction type, from reporting.loop_sides (the same sides, GCI, volume and units): the company''s and offices'' figures over months and years without reading every side. Averages are totals over counts: average price per side is sum(priced_volume) / sum(priced_units), average days to close sum(days_to_close_total) / sum(days_to_close_loops).';

COMMENT ON COLUMN reporting.daily_production.closing_date IS 'The day the sides closed.';

COMMENT ON COLUMN reporting.daily_production.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.daily_production.closing_year IS 'The year of closing_date.';

COMMENT ON COLUMN reporting.daily_production.profile_id IS 'The Dotloop profile holding the loops: what limits an office viewer''s rows.';

COMMENT ON COLUMN reporting.daily_production.office IS 'The office of the sides (reporting.loop_sides.office); NULL for none.';

COMMENT ON COLUMN reporting.daily_production.side IS 'The side, ''buy'' or ''sell'' (list sides).';

COMMENT ON COLUMN reporting.daily_production.transaction_type IS 'The loops'' Dotloop transaction type.';

COMMENT ON COLUMN reporting.daily_production.sides IS 'How many closed sides, referrals included.';

COMMENT ON COLUMN reporting.daily_production.units IS 'Closed units (a referral adds none).';

COMMENT ON COLUMN reporting.daily_production.gci IS 'GCI of the closed sides.';

COMMENT ON COLUMN reporting.daily_production.adjusted_gci IS 'GCI after outbound referral fees.';

COMMENT ON COLUMN reporting.daily_production.volume IS 'Closed volume.';

COMMENT ON COLUMN reporting.daily_production.transactions IS 'Closed loops (a dual-agency loop''s two sides count once, on its sell side row).';

COMMENT ON COLUMN reporting.daily_production.priced_volume IS 'Volume of the sides with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.daily_production.priced_units IS 'Units of the sides with a price, for average price.';

COMMENT ON COLUMN reporting.daily_production.days_to_close_total IS 'Days from contract to closing added up over the loops.';

COMMENT ON COLUMN reporting.daily_production.days_to_close_loops IS 'How many loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.daily_production.days_on_market_total IS 'Days from listing to contract added up over the loops.';

COMMENT ON COLUMN reporting.daily_production.days_on_market_loops IS 'How many loops days_on_market_total adds up.';

CREATE TABLE reporting.data_quality (
  loop_id BIGINT,
  profile_id BIGINT,
  loop_name TEXT,
  side TEXT,
  metric TEXT,
  problem TEXT,
  reason TEXT,
  value TEXT
);

COMMENT ON TABLE reporting.data_quality IS 'One row per loop (and side, where it matters) and problem that made a report leave something out: a detail that could not be read, a closed deal without a closing date, a represented side without an agent, a loop with no represented side, a side whose GCI or volume cannot be derived, an agent without an e-mail, a side whose agents are all outside the brokerage''s roster, a pipeline deal without a closing date. Fix the loop in Dotloop (or the roster); the row goes away after the next sync.';

COMMENT ON COLUMN reporting.data_quality.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.data_quality.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.data_quality.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.data_quality.side IS 'The side concerned, ''buy'' or ''sell''; NULL for the whole loop.';

COMMENT ON COLUMN reporting.data_quality.metric IS 'What is left out: a reporting.loops column whose value could not be read (price, closing_date, ...), or gci, volume, agent_credit, sides; closing_date also for a closed or pipeline deal without one.';

COMMENT ON COLUMN reporting.data_quality.problem IS 'The kind of problem: unreadable_value, closed_without_closing_date, no_agent_on_side, agent_without_email, no_represented_side, gci_not_derivable, no_volume, outside_agents_only (with a roster loaded, a side worked only by agents not on it does not count) or pipeline_without_closing_date (an UNDER_CONTRACT loop with no Closing Date is in no month of the pipeline).';

COMMENT ON COLUMN reporting.data_quality.reason IS 'What is wrong, in words, naming the Dotloop field to fix.';

COMMENT ON COLUMN reporting.data_quality.value IS 'The offending value as entered in Dotloop, when there is one.';

CREATE TABLE reporting.pipeline (
  projected_close_month DATE,
  office TEXT,
  profile_id BIGINT,
  transaction_type TEXT,
  loops BIGINT,
  sides DECIMAL(38, 9),
  projected_gci DECIMAL(38, 9),
  projected_adjusted_gci DECIMAL(38, 9),
  projected_volume DECIMAL(38, 9)
);

COMMENT ON TABLE reporting.pipeline IS 'The pending pipeline: one row per projected close month, office, Dotloop profile and transaction type (sum over the last two for an office''s month), adding up the represented sides of UNDER_CONTRACT loops by the month of their Closing Date, with GCI, volume and units computed by the same rules as for closed deals. An UNDER_CONTRACT loop without a Closing Date is in no month; reporting.data_quality lists it (pipeline_without_closing_date).';

COMMENT ON COLUMN reporting.pipeline.projected_close_month IS 'First day of the month the deals are expected to close in.';

COMMENT ON COLUMN reporting.pipeline.office IS 'The office of the sides (reporting.loop_sides.office); NULL for none.';

COMMENT ON COLUMN reporting.pipeline.profile_id IS 'The Dotloop profile the loops belong to: office row-level security limits office viewers by it.';

COMMENT ON COLUMN reporting.pipeline.transaction_type IS 'The loops'' Dotloop transaction type.';

COMMENT ON COLUMN reporting.pipeline.loops IS 'How many UNDER_CONTRACT loops are expected to close that month.';

COMMENT ON COLUMN reporting.pipeline.sides IS 'Their projected units: represented sides, a referral counting none.';

COMMENT ON COLUMN reporting.pipeline.projected_gci IS 'The GCI the sides would bring once closed (sides whose GCI is unknown add nothing and are listed in reporting.data_quality).';

COMMENT ON COLUMN reporting.pipeline.projected_adjusted_gci IS 'projected_gci after outbound referral fees.';

COMMENT ON COLUMN reporting.pipeline.projected_volume IS 'The volume the sides would add once closed.';

CREATE TABLE reporting.agent_monthly_production (
  closing_month DATE,
  closing_year INT,
  agent_email TEXT,
  agent_name TEXT,
  team TEXT,
  office TEXT,
  profile_id BIGINT,
  transaction_type TEXT,
  credits BIGINT,
  units DECIMAL(38, 9),
  list_units DECIMAL(38, 9),
  buy_units DECIMAL(38, 9),
  gci DECIMAL(38, 9),
  adjusted_gci DECIMAL(38, 9),
  volume DECIMAL(38, 9),
  transactions BIGINT,
  priced_volume DECIMAL(38, 9),
  priced_units DECIMAL(38, 9),
  days_to_close_total BIGINT,
  days_to_close_loops BIGINT,
  days_on_market_total BIGINT,
  days_on_market_loops BIGINT,
  company_dollar DECIMAL(38, 9),
  deal_fees DECIMAL(38, 9),
  agent_net DECIMAL(38, 9)
);

COMMENT ON TABLE reporting.agent_monthly_production IS 'Closed production of each agent added up per closing month, team, office, Dotloop profile and transaction type, from reporting.agent_credits (the same shares of GCI, volume and units, and plan figures): an agent''s figures over months and years without reading every credit. Averages are totals over counts, as in reporting.daily_production.';

COMMENT ON COLUMN reporting.agent_monthly_production.closing_month IS 'First day of the month the credits closed in.';

COMMENT ON COLUMN reporting.agent_monthly_production.closing_year IS 'The year of closing_month.';

COMMENT ON COLUMN reporting.agent_monthly_production.agent_email IS 'The agent''s e-mail address, lower-cased.';

COMMENT ON COLUMN reporting.agent_monthly_production.agent_name IS 'The agent''s name, as in reporting.agent_credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.team IS 'The agent''s team on the roster.';

COMMENT ON COLUMN reporting.agent_monthly_production.office IS 'The office the credits count for (reporting.agent_credits.office).';

COMMENT ON COLUMN reporting.agent_monthly_production.profile_id IS 'The Dotloop profile the loops belong to: office row-level security limits office viewers by it.';

COMMENT ON COLUMN reporting.agent_monthly_production.transaction_type IS 'The loops'' Dotloop transaction type.';

COMMENT ON COLUMN reporting.agent_monthly_production.credits IS 'How many closed credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.units IS 'The agent''s closed unit credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.list_units IS 'Of those, on the sell (listing) side.';

COMMENT ON COLUMN reporting.agent_monthly_production.buy_units IS 'Of those, on the buy side.';

COMMENT ON COLUMN reporting.agent_monthly_production.gci IS 'The agent''s closed GCI credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.adjusted_gci IS 'The agent''s GCI credits after outbound referral fees.';

COMMENT ON COLUMN reporting.agent_monthly_production.volume IS 'The agent''s closed volume credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.transactions IS 'The agent''s closed loops (distinct loops with a credit).';

COMMENT ON COLUMN reporting.agent_monthly_production.priced_volume IS 'Volume credits with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.agent_monthly_production.priced_units IS 'Unit credits with a price, for average price.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_to_close_total IS 'Days from contract to closing added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_to_close_loops IS 'How many loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_on_market_total IS 'Days from listing to contract added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_on_market_loops IS 'How many loops days_on_market_total adds up.';

COMMENT ON COLUMN reporting.agent_monthly_production.company_dollar IS 'Company dollar of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_monthly_production.deal_fees IS 'Per-deal fees of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_monthly_production.agent_net IS 'The agent''s net of the credits; NULL without a plan.';

CREATE TABLE reporting.team_monthly_production (
  closing_month DATE,
  closing_year INT,
  team TEXT,
  units DECIMAL(38, 9),
  list_units DECIMAL(38, 9),
  buy_units DECIMAL(38, 9),
  gci DECIMAL(38, 9),
  adjusted_gci DECIMAL(38, 9),
  volume DECIMAL(38, 9),
  transactions BIGINT,
  priced_volume DECIMAL(38, 9),
  priced_units DECIMAL(38, 9),
  days_to_close_total BIGINT,
  days_to_close_loops BIGINT,
  days_on_market_total BIGINT,
  days_on_market_loops BIGINT,
  company_dollar DECIMAL(38, 9),
  deal_fees DECIMAL(38, 9),
  agent_net DECIMAL(38, 9)
);

COMMENT ON TABLE reporting.team_monthly_production IS 'Closed production of each team (its agents'' credits in reporting.agent_credits) added up per closing month: a team''s figures over months and years without reading every credit. A loop several of the team''s agents worked is one transaction of the team.';

COMMENT ON COLUMN reporting.team_monthly_production.closing_month IS 'First day of the month the credits closed in.';

COMMENT ON COLUMN reporting.team_monthly_production.closing_year IS 'The year of closing_month.';

COMMENT ON COLUMN reporting.team_monthly_production.team IS 'The team on the roster.';

COMMENT ON COLUMN reporting.team_monthly_production.units IS 'The team''s agents'' closed unit credits.';

COMMENT ON COLUMN reporting.team_monthly_production.list_units IS 'Of those, on the sell (listing) side.';

COMMENT ON COLUMN reporting.team_monthly_production.buy_units IS 'Of those, on the buy side.';

COMMENT ON COLUMN reporting.team_monthly_production.gci IS 'The team''s agents'' closed GCI credits.';

COMMENT ON COLUMN reporting.team_monthly_production.adjusted_gci IS 'Their GCI credits after outbound referral fees.';

COMMENT ON COLUMN reporting.team_monthly_production.volume IS 'Their closed volume credits.';

COMMENT ON COLUMN reporting.team_monthly_production.transactions IS 'Distinct closed loops where one of the team''s agents has a credit.';

COMMENT ON COLUMN reporting.team_monthly_production.priced_volume IS 'Volume credits with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.team_monthly_production.priced_units IS 'Unit credits with a price, for average price.';

COMMENT ON COLUMN reporting.team_monthly_production.days_to_close_total IS 'Days from contract to closing added up over the agents'' loops (a loop two of them worked counts twice).';

COMMENT ON COLUMN reporting.team_monthly_production.days_to_close_loops IS 'How many agent loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.team_monthly_production.days_on_market_total IS 'Days from listing to contract added up the same way.';

COMMENT ON COLUMN reporting.team_monthly_production.days_on_market_loops IS 'How many agent loops days_on_market_total adds up.';

COMMENT ON COLUMN reporting.team_monthly_production.company_dollar IS 'Company dollar of the credits; NULL when no agent has a plan.';

COMMENT ON COLUMN reporting.team_monthly_production.deal_fees IS 'Per-deal fees of the credits.';

COMMENT ON COLUMN reporting.team_monthly_production.agent_net IS 'The agents'' net of the credits.';

CREATE TABLE reporting.agent_ytd_production (
  agent_email TEXT,
  closing_year INT,
  through_month DATE,
  units DECIMAL(38, 9),
  list_units DECIMAL(38, 9),
  buy_units DECIMAL(38, 9),
  gci DECIMAL(38, 9),
  adjusted_gci DECIMAL(38, 9),
  volume DECIMAL(38, 9),
  transactions BIGINT,
  priced_volume DECIMAL(38, 9),
  priced_units DECIMAL(38, 9),
  days_to_close_total BIGINT,
  days_to_close_loops BIGINT,
  days_on_market_total BIGINT,
  days_on_market_loops BIGINT,
  company_dollar DECIMAL(38, 9),
  deal_fees DECIMAL(38, 9),
  agent_net DECIMAL(38, 9)
);

COMMENT ON TABLE reporting.agent_ytd_production IS 'Closed production of each agent from January 1 through the end of each month (through_month) of a year, added up from reporting.agent_monthly_production: one row per agent and month from the agent''s first month with a closing that year through December, so the figures up to any month are one row. A month before the agent''s first closing of the year has no row: nothing closed yet.';

COMMENT ON COLUMN reporting.agent_ytd_production.agent_email IS 'The agent''s e-mail address, lower-cased.';

COMMENT ON COLUMN reporting.agent_ytd_production.closing_year IS 'The year the figures add up.';

COMMENT ON COLUMN reporting.agent_ytd_production.through_month IS 'First day of the last month the figures add up: from January 1 of closing_year to the end of this month.';

COMMENT ON COLUMN reporting.agent_ytd_production.units IS 'The agent''s closed unit credits.';

COMMENT ON COLUMN reporting.agent_ytd_production.list_units IS 'Of those, on the sell (listing) side.';

COMMENT ON COLUMN reporting.agent_ytd_production.buy_units IS 'Of those, on the buy side.';

COMMENT ON COLUMN reporting.agent_ytd_production.gci IS 'The agent''s closed GCI credits.';

COMMENT ON COLUMN reporting.agent_ytd_production.adjusted_gci IS 'The agent''s GCI credits after outbound referral fees.';

COMMENT ON COLUMN reporting.agent_ytd_production.volume IS 'The agent''s closed volume credits.';

COMMENT ON COLUMN reporting.agent_ytd_production.transactions IS 'The agent''s closed loops (distinct loops with a credit).';

COMMENT ON COLUMN reporting.agent_ytd_production.priced_volume IS 'Volume credits with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.agent_ytd_production.priced_units IS 'Unit credits with a price, for average price.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_to_close_total IS 'Days from contract to closing added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_to_close_loops IS 'How many loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_on_market_total IS 'Days from listing to contract added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_on_market_loops IS 'How many loops days_on_market_total adds up.';

COMMENT ON COLUMN reporting.agent_ytd_production.company_dollar IS 'Company dollar of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_ytd_production.deal_fees IS 'Per-deal fees of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_ytd_production.agent_net IS 'The agent''s net of the credits; NULL without a plan.';

CREATE OR REPLACE VIEW reporting.production_pieces AS
SELECT
  CAST('company' AS TEXT) AS grain,
  CAST('' AS TEXT) AS key,
  CAST(CASE WHEN d.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS TEXT) AS period,
  CAST(p.period_anchor AS DATE) AS period_anchor,
  CAST(p.ytd_start AS DATE) AS ytd_start,
  CAST(p.prior_ytd_start AS DATE) AS prior_ytd_start,
  CAST(p.prior_ytd_end AS DATE) AS prior_ytd_end,
  CAST(d.units AS DECIMAL(38, 9)) AS units,
  CAST(CASE d.side WHEN 'sell' THEN d.units ELSE 0 END AS DECIMAL(38, 9)) AS list_units,
  CAST(CASE d.side WHEN 'buy' THEN d.units ELSE 0 END AS DECIMAL(38, 9)) AS buy_units,
  CAST(d.gci AS DECIMAL(38, 9)) AS gci,
  CAST(d.adjusted_gci AS DECIMAL(38, 9)) AS adjusted_gci,
  CAST(d.volume AS DECIMAL(38, 9)) AS volume,
  CAST(d.transactions AS BIGINT) AS transactions,
  CAST(d.priced_volume AS DECIMAL(38, 9)) AS priced_volume,
  CAST(d.priced_units AS DECIMAL(38, 9)) AS priced_units,
  CAST(d.days_to_close_total AS DECIMAL(38, 9)) AS days_to_close_total,
  CAST(d.days_to_close_loops AS DECIMAL(38, 9)) AS days_to_close_loops,
  CAST(d.days_on_market_total AS DECIMAL(38, 9)) AS days_on_market_total,
  CAST(d.days_on_market_loops AS DECIMAL(38, 9)) AS days_on_market_loops,
  CAST(NULL AS DECIMAL(38, 9)) AS company_dollar,
  CAST(NULL AS DECIMAL(38, 9)) AS deal_fees,
  CAST(NULL AS DECIMAL(38, 9)) AS agent_net
FROM reporting.daily_production AS d
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1' YEAR) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  d.closing_date BETWEEN CAST((
    DATE_TRUNC('YEAR', CURRENT_DATE) - INTERVAL '1' YEAR
  ) AS DATE) AND CURRENT_DATE
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
  CAST(d.units AS DECIMAL(38, 9)) AS units,
  CAST(CASE d.side WHEN 'sell' THEN d.units ELSE 0 END AS DECIMAL(38, 9)) AS list_units,
  CAST(CASE d.side WHEN 'buy' THEN d.units ELSE 0 END AS DECIMAL(38, 9)) AS buy_units,
  CAST(d.gci AS DECIMAL(38, 9)) AS gci,
  CAST(d.adjusted_gci AS DECIMAL(38, 9)) AS adjusted_gci,
  CAST(d.volume AS DECIMAL(38, 9)) AS volume,
  CAST(d.transactions AS BIGINT) AS transactions,
  CAST(d.priced_volume AS DECIMAL(38, 9)) AS priced_volume,
  CAST(d.priced_units AS DECIMAL(38, 9)) AS priced_units,
  CAST(d.days_to_close_total AS DECIMAL(38, 9)) AS days_to_close_total,
  CAST(d.days_to_close_loops AS DECIMAL(38, 9)) AS days_to_close_loops,
  CAST(d.days_on_market_total AS DECIMAL(38, 9)) AS days_on_market_total,
  CAST(d.days_on_market_loops AS DECIMAL(38, 9)) AS days_on_market_loops,
  CAST(NULL AS DECIMAL(38, 9)) AS company_dollar,
  CAST(NULL AS DECIMAL(38, 9)) AS deal_fees,
  CAST(NULL AS DECIMAL(38, 9)) AS agent_net
FROM reporting.daily_production AS d
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1' YEAR) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  NOT d.office IS NULL
  AND d.closing_date BETWEEN CAST((
    DATE_TRUNC('YEAR', CURRENT_DATE) - INTERVAL '1' YEAR
  ) AS DATE) AND CURRENT_DATE
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
  CAST(SUM(m.units) AS DECIMAL(38, 9)) AS units,
  CAST(SUM(m.list_units) AS DECIMAL(38, 9)) AS list_units,
  CAST(SUM(m.buy_units) AS DECIMAL(38, 9)) AS buy_units,
  CAST(SUM(m.gci) AS DECIMAL(38, 9)) AS gci,
  CAST(SUM(m.adjusted_gci) AS DECIMAL(38, 9)) AS adjusted_gci,
  CAST(SUM(m.volume) AS DECIMAL(38, 9)) AS volume,
  CAST(SUM(m.transactions) AS BIGINT) AS transactions,
  CAST(SUM(m.priced_volume) AS DECIMAL(38, 9)) AS priced_volume,
  CAST(SUM(m.priced_units) AS DECIMAL(38, 9)) AS priced_units,
  CAST(SUM(m.days_to_close_total) AS DECIMAL(38, 9)) AS days_to_close_total,
  CAST(SUM(m.days_to_close_loops) AS DECIMAL(38, 9)) AS days_to_close_loops,
  CAST(SUM(m.days_on_market_total) AS DECIMAL(38, 9)) AS days_on_market_total,
  CAST(SUM(m.days_on_market_loops) AS DECIMAL(38, 9)) AS days_on_market_loops,
  CAST(SUM(m.company_dollar) AS DECIMAL(38, 9)) AS company_dollar,
  CAST(SUM(m.deal_fees) AS DECIMAL(38, 9)) AS deal_fees,
  CAST(SUM(m.agent_net) AS DECIMAL(38, 9)) AS agent_net
FROM reporting.team_monthly_production AS m
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1' YEAR) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  m.closing_month >= CAST((
    DATE_TRUNC('YEAR', CURRENT_DATE) - INTERVAL '1' YEAR
  ) AS DATE)
  AND m.closing_month < CAST(DATE_TRUNC('MONTH', CURRENT_DATE) AS DATE)
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
  CAST(SUM(c.unit_credit) AS DECIMAL(38, 9)) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS DECIMAL(38, 9)) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS DECIMAL(38, 9)) AS buy_units,
  CAST(SUM(c.gci_credit) AS DECIMAL(38, 9)) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS DECIMAL(38, 9)) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS DECIMAL(38, 9)) AS volume,
  CAST(COUNT(DISTINCT c.loop_id) AS BIGINT) AS transactions,
  CAST(SUM(c.volume_credit) FILTER(WHERE
    c.unit_credit > 0) AS DECIMAL(38, 9)) AS priced_volume,
  CAST(SUM(c.unit_credit) FILTER(WHERE
    c.unit_credit > 0 AND NOT c.volume_credit IS NULL) AS DECIMAL(38, 9)) AS priced_units,
  CAST(SUM(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_to_close_total,
  CAST(COUNT(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_to_close_loops,
  CAST(SUM(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_on_market_total,
  CAST(COUNT(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_on_market_loops,
  CAST(SUM(c.company_dollar) AS DECIMAL(38, 9)) AS company_dollar,
  CAST(SUM(c.deal_fees) AS DECIMAL(38, 9)) AS deal_fees,
  CAST(SUM(c.agent_net) AS DECIMAL(38, 9)) AS agent_net
FROM reporting.agent_credits AS c
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1' YEAR) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  c.is_closed
  AND NOT c.team IS NULL
  AND (
    c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', CURRENT_DATE) AS DATE) AND CURRENT_DATE
    OR c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', CURRENT_DATE - INTERVAL '1' YEAR) AS DATE) AND CAST((
      CURRENT_DATE - INTERVAL '1' YEAR
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
  CAST(y.units AS DECIMAL(38, 9)) AS units,
  CAST(y.list_units AS DECIMAL(38, 9)) AS list_units,
  CAST(y.buy_units AS DECIMAL(38, 9)) AS buy_units,
  CAST(y.gci AS DECIMAL(38, 9)) AS gci,
  CAST(y.adjusted_gci AS DECIMAL(38, 9)) AS adjusted_gci,
  CAST(y.volume AS DECIMAL(38, 9)) AS volume,
  CAST(y.transactions AS BIGINT) AS transactions,
  CAST(y.priced_volume AS DECIMAL(38, 9)) AS priced_volume,
  CAST(y.priced_units AS DECIMAL(38, 9)) AS priced_units,
  CAST(y.days_to_close_total AS DECIMAL(38, 9)) AS days_to_close_total,
  CAST(y.days_to_close_loops AS DECIMAL(38, 9)) AS days_to_close_loops,
  CAST(y.days_on_market_total AS DECIMAL(38, 9)) AS days_on_market_total,
  CAST(y.days_on_market_loops AS DECIMAL(38, 9)) AS days_on_market_loops,
  CAST(y.company_dollar AS DECIMAL(38, 9)) AS company_dollar,
  CAST(y.deal_fees AS DECIMAL(38, 9)) AS deal_fees,
  CAST(y.agent_net AS DECIMAL(38, 9)) AS agent_net
FROM reporting.agent_ytd_production AS y
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1' YEAR) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  y.through_month IN (
    CAST((
      DATE_TRUNC('MONTH', CURRENT_DATE) - INTERVAL '1' MONTH
    ) AS DATE),
    CAST((
      DATE_TRUNC('MONTH', CURRENT_DATE - INTERVAL '1' YEAR) - INTERVAL '1' MONTH
    ) AS DATE)
  )
  AND y.through_month >= CAST((
    DATE_TRUNC('YEAR', CURRENT_DATE) - INTERVAL '1' YEAR
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
  CAST(SUM(c.unit_credit) AS DECIMAL(38, 9)) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS DECIMAL(38, 9)) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS DECIMAL(38, 9)) AS buy_units,
  CAST(SUM(c.gci_credit) AS DECIMAL(38, 9)) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS DECIMAL(38, 9)) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS DECIMAL(38, 9)) AS volume,
  CAST(SUM(c.transactions) AS BIGINT) AS transactions,
  CAST(SUM(c.volume_credit) FILTER(WHERE
    c.unit_credit > 0) AS DECIMAL(38, 9)) AS priced_volume,
  CAST(SUM(c.unit_credit) FILTER(WHERE
    c.unit_credit > 0 AND NOT c.volume_credit IS NULL) AS DECIMAL(38, 9)) AS priced_units,
  CAST(SUM(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_to_close_total,
  CAST(COUNT(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_to_close_loops,
  CAST(SUM(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_on_market_total,
  CAST(COUNT(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS DECIMAL(38, 9)) AS days_on_market_loops,
  CAST(SUM(c.company_dollar) AS DECIMAL(38, 9)) AS company_dollar,
  CAST(SUM(c.deal_fees) AS DECIMAL(38, 9)) AS deal_fees,
  CAST(SUM(c.agent_net) AS DECIMAL(38, 9)) AS agent_net
FROM reporting.agent_credits AS c
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(DATE_TRUNC('YEAR', a.anchor) AS DATE) AS ytd_start,
    CAST(DATE_TRUNC('MONTH', a.anchor) AS DATE) AS ytd_month,
    CAST((
      DATE_TRUNC('YEAR', a.anchor) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(DATE_TRUNC('MONTH', a.anchor - INTERVAL '1' YEAR) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  c.is_closed
  AND (
    c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', CURRENT_DATE) AS DATE) AND CURRENT_DATE
    OR c.closing_date BETWEEN CAST(DATE_TRUNC('MONTH', CURRENT_DATE - INTERVAL '1' YEAR) AS DATE) AND CAST((
      CURRENT_DATE - INTERVAL '1' YEAR
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

CREATE OR REPLACE VIEW reporting.production_summary AS
SELECT
  CAST(f.grain AS TEXT) AS grain,
  CAST(f.key AS TEXT) AS key,
  CAST(MIN(f.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(f.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(f.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(f.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(COALESCE(SUM(f.gci) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_gci,
  CAST(COALESCE(SUM(f.gci) FILTER(WHERE
    f.period = 'prior'), 0) AS DECIMAL(38, 9)) AS prior_ytd_gci,
  CAST((
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'ytd'), 0) AS DECIMAL(38, 9))
  ) - (
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'prior'), 0) AS DECIMAL(38, 9))
  ) AS DECIMAL(38, 9)) AS yoy_gci_change,
  CAST((
    (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'ytd'), 0) AS DECIMAL(38, 9))
    ) - (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'prior'), 0) AS DECIMAL(38, 9))
    )
  ) / NULLIF(
    (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'prior'), 0) AS DECIMAL(38, 9))
    ),
    0
  ) AS DECIMAL(38, 9)) AS yoy_gci_change_pct,
  CAST(COALESCE(SUM(f.adjusted_gci) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_adjusted_gci,
  CAST(COALESCE(SUM(f.adjusted_gci) FILTER(WHERE
    f.period = 'prior'), 0) AS DECIMAL(38, 9)) AS prior_ytd_adjusted_gci,
  CAST(COALESCE(SUM(f.volume) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_volume,
  CAST(COALESCE(SUM(f.volume) FILTER(WHERE
    f.period = 'prior'), 0) AS DECIMAL(38, 9)) AS prior_ytd_volume,
  CAST(COALESCE(SUM(f.units) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_units,
  CAST(COALESCE(SUM(f.units) FILTER(WHERE
    f.period = 'prior'), 0) AS DECIMAL(38, 9)) AS prior_ytd_units,
  CAST(COALESCE(SUM(f.list_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_list_sides,
  CAST(COALESCE(SUM(f.buy_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_buy_sides,
  CAST(COALESCE(SUM(f.transactions) FILTER(WHERE
    f.period = 'ytd'), 0) AS BIGINT) AS ytd_transactions,
  CAST(COALESCE(SUM(f.transactions) FILTER(WHERE
    f.period = 'prior'), 0) AS BIGINT) AS prior_ytd_transactions,
  CAST(SUM(f.priced_volume) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.priced_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_average_price,
  CAST((
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'ytd'), 0) AS DECIMAL(38, 9))
  ) / NULLIF(
    (
      CAST(COALESCE(SUM(f.units) FILTER(WHERE
        f.period = 'ytd'), 0) AS DECIMAL(38, 9))
    ),
    0
  ) AS DECIMAL(38, 9)) AS ytd_average_commission,
  CAST(SUM(f.days_to_close_total) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.days_to_close_loops) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_average_days_to_close,
  CAST(SUM(f.days_on_market_total) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.days_on_market_loops) FILTER(WHERE
    f.period = 'ytd'), 0) AS DECIMAL(38, 9)) AS ytd_average_days_on_market,
  CAST(SUM(f.company_dollar) FILTER(WHERE
    f.period = 'ytd') AS DECIMAL(38, 9)) AS ytd_company_dollar,
  CAST(SUM(f.deal_fees) FILTER(WHERE
    f.period = 'ytd') AS DECIMAL(38, 9)) AS ytd_deal_fees,
  CAST(SUM(f.agent_net) FILTER(WHERE
    f.period = 'ytd') AS DECIMAL(38, 9)) AS ytd_agent_net
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
