-- The reporting schema of dotloop-reporter for snowflake, generated from datasets/*.yaml by sqlglot.
-- Fast tables are written with their columns and comments; fill them from the Postgres tables of the same names in reporting.
-- Left out: the parsing views (reporting_lib.*), which call Postgres parse functions and jsonb operators on the stored payloads.
-- Left out: sync_freshness: calls reporting_lib.parse_text (Postgres only).
-- Left out: data_quality: calls jsonb_each (Postgres only).

CREATE TABLE reporting.loops (
  loop_id BIGINT,
  profile_id BIGINT,
  name VARCHAR,
  transaction_type VARCHAR,
  status VARCHAR,
  is_lease BOOLEAN,
  represented_side VARCHAR,
  is_closed BOOLEAN,
  created TIMESTAMPTZ,
  updated TIMESTAMPTZ,
  loop_url VARCHAR,
  street_number VARCHAR,
  street_name VARCHAR,
  unit_number VARCHAR,
  street_address VARCHAR,
  city VARCHAR,
  state VARCHAR,
  postal_code VARCHAR,
  county VARCHAR,
  country VARCHAR,
  mls_number VARCHAR,
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
  listing_date DATE,
  original_price DECIMAL(38, 9),
  current_price DECIMAL(38, 9),
  referral_percent DECIMAL(38, 9),
  referral_source VARCHAR,
  days_to_close INT,
  days_on_market INT,
  unparsed_fields JSONB
);

COMMENT ON TABLE reporting.loops IS 'One row per Dotloop loop the brokerage can see (loops removed from Dotloop are left out), with its details read into types. Money is in the loop\'s currency, percentages are fractions (0.06 = 6%). A detail that holds a value which cannot be read is NULL here and listed in unparsed_fields and in reporting.data_quality.';

COMMENT ON COLUMN reporting.loops.loop_id IS 'Dotloop\'s id of the loop, the number in the loop\'s URL (not the "Loop ID" shown among the loop\'s details).';

COMMENT ON COLUMN reporting.loops.profile_id IS 'The Dotloop profile the loop belongs to: profileId from the loop itself, else the lowest-numbered profile through which it was seen.';

COMMENT ON COLUMN reporting.loops.name IS 'The loop\'s name as shown in Dotloop, usually the property address.';

COMMENT ON COLUMN reporting.loops.transaction_type IS 'Dotloop\'s transaction type: PURCHASE_OFFER, LISTING_FOR_SALE, LISTING_FOR_LEASE, LEASE_OFFER, REAL_ESTATE_OTHER or OTHER (unknown values are kept as they come).';

COMMENT ON COLUMN reporting.loops.status IS 'Dotloop\'s loop status, such as PRE_OFFER, ACTIVE_LISTING, UNDER_CONTRACT, SOLD, LEASED or ARCHIVED.';

COMMENT ON COLUMN reporting.loops.is_lease IS 'True for lease transactions (LEASE_OFFER, LISTING_FOR_LEASE).';

COMMENT ON COLUMN reporting.loops.represented_side IS 'The side the transaction type represents: \'buy\' for purchase and lease offers, \'sell\' for listings; NULL for other types, which count no side (reporting.loop_sides adds the other side for dual agency).';

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

COMMENT ON COLUMN reporting.loops.buy_side_split_percent IS 'Financials / Sale Commission Split % - Buy Side: the buy side\'s share of the total commission, as a fraction (0.5 = half).';

COMMENT ON COLUMN reporting.loops.sell_side_split_percent IS 'Financials / Sale Commission Split % - Sell Side: the sell side\'s share of the total commission, as a fraction (0.5 = half).';

COMMENT ON COLUMN reporting.loops.buy_side_split_amount IS 'Financials / Sale Commission Split $ - Buy Side.';

COMMENT ON COLUMN reporting.loops.sell_side_split_amount IS 'Financials / Sale Commission Split $ - Sell Side.';

COMMENT ON COLUMN reporting.loops.buy_side_split_entered IS 'True when either buy-side split field (% or $) holds something, readable or not.';

COMMENT ON COLUMN reporting.loops.sell_side_split_entered IS 'True when either sell-side split field (% or $) holds something, readable or not.';

COMMENT ON COLUMN reporting.loops.earnest_money IS 'Financials / Earnest Money Amount.';

COMMENT ON COLUMN reporting.loops.rent IS 'Financials / Rent (leases).';

COMMENT ON COLUMN reporting.loops.rent_commission IS 'Financials / Rent Commission Amount (leases).';

COMMENT ON COLUMN reporting.loops.price_missing IS 'True when the deal has no price: Purchase/Sale Price (and, on a lease, Rent) is 0, empty or a placeholder such as n/a. An unreadable price is not missing. A loop with a commission but no price is a referral.';

COMMENT ON COLUMN reporting.loops.deal_commission IS 'The deal\'s total commission, split between the sides: Sale Commission Total; else price x Sale Commission Rate; else, for a lease, Rent Commission Amount. NULL when none is available.';

COMMENT ON COLUMN reporting.loops.contract_date IS 'Contract Dates / Contract Agreement Date.';

COMMENT ON COLUMN reporting.loops.closing_date IS 'Contract Dates / Closing Date. A closed deal belongs to the period of this date; a closed loop without one is left out of every period and listed in reporting.data_quality.';

COMMENT ON COLUMN reporting.loops.closing_month IS 'First day of the month of closing_date, for monthly charts.';

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
  full_name VARCHAR,
  email VARCHAR,
  role VARCHAR,
  agent_side VARCHAR
);

COMMENT ON TABLE reporting.loop_participants IS 'One row per participant of a loop in reporting.loops: buyers, sellers, agents, brokers, lenders and others, with the role they hold in that loop. Agents are identified by e-mail, trimmed and lower-cased.';

COMMENT ON COLUMN reporting.loop_participants.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.loop_participants.profile_id IS 'The Dotloop profile the loop belongs to (reporting.loops.profile_id).';

COMMENT ON COLUMN reporting.loop_participants.participant_order IS 'Position of the participant in the loop\'s participant list, from 1.';

COMMENT ON COLUMN reporting.loop_participants.participant_id IS 'Dotloop\'s id of the participant within the loop.';

COMMENT ON COLUMN reporting.loop_participants.full_name IS 'The participant\'s name as entered in the loop.';

COMMENT ON COLUMN reporting.loop_participants.email IS 'The participant\'s e-mail address, trimmed and lower-cased: the key that identifies an agent across loops and profiles.';

COMMENT ON COLUMN reporting.loop_participants.role IS 'The participant\'s role in the loop, such as LISTING_AGENT, BUYING_AGENT, TENANT_AGENT, BUYER, SELLER, MANAGING_BROKER or ADMIN.';

COMMENT ON COLUMN reporting.loop_participants.agent_side IS 'The side this participant works as an agent: \'sell\' for a LISTING_AGENT, \'buy\' for a BUYING_AGENT or, on a lease, a TENANT_AGENT; NULL for every other role.';

CREATE TABLE reporting.loop_sides (
  loop_id BIGINT,
  profile_id BIGINT,
  loop_name VARCHAR,
  transaction_type VARCHAR,
  status VARCHAR,
  side VARCHAR,
  is_dual_agency BOOLEAN,
  is_closed BOOLEAN,
  closing_date DATE,
  closing_month DATE,
  loop_updated TIMESTAMPTZ,
  price DECIMAL(38, 9),
  deal_commission DECIMAL(38, 9),
  split_amount DECIMAL(38, 9),
  split_percent DECIMAL(38, 9),
  gci_rule VARCHAR,
  gci DECIMAL(38, 9),
  is_referral_only BOOLEAN,
  volume DECIMAL(38, 9),
  units DECIMAL(38, 9),
  agent_count INT,
  agents_without_email VARCHAR
);

COMMENT ON TABLE reporting.loop_sides IS 'One row per loop and represented side (\'buy\' or \'sell\'). Purchase and lease offers are the buy side, listings the sell side; a loop with both a listing and a buying agent and both sides\' commission split filled counts both sides (dual agency). Sum gci, volume and units over rows with is_closed, by closing_month, for production; company totals come from this view, never from summing agent credits.';

COMMENT ON COLUMN reporting.loop_sides.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.loop_sides.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.loop_sides.loop_name IS 'The loop\'s name, usually the property address.';

COMMENT ON COLUMN reporting.loop_sides.transaction_type IS 'The loop\'s Dotloop transaction type.';

COMMENT ON COLUMN reporting.loop_sides.status IS 'The loop\'s Dotloop status.';

COMMENT ON COLUMN reporting.loop_sides.side IS 'The represented side, \'buy\' or \'sell\'.';

COMMENT ON COLUMN reporting.loop_sides.is_dual_agency IS 'True when the loop counts both sides: it has a LISTING_AGENT and a BUYING_AGENT (or, on a lease, TENANT_AGENT) and the commission split of both sides is filled.';

COMMENT ON COLUMN reporting.loop_sides.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.loop_sides.closing_date IS 'The deal\'s closing date; a closed side without one is in no period and is listed in reporting.data_quality.';

COMMENT ON COLUMN reporting.loop_sides.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.loop_sides.loop_updated IS 'When the loop last changed in Dotloop.';

COMMENT ON COLUMN reporting.loop_sides.price IS 'The deal\'s Purchase/Sale Price.';

COMMENT ON COLUMN reporting.loop_sides.deal_commission IS 'The deal\'s total commission before the split between the sides (see reporting.loops.deal_commission).';

COMMENT ON COLUMN reporting.loop_sides.split_amount IS 'This side\'s Sale Commission Split $.';

COMMENT ON COLUMN reporting.loop_sides.split_percent IS 'This side\'s Sale Commission Split % as a fraction.';

COMMENT ON COLUMN reporting.loop_sides.gci_rule IS 'Which rule gave the GCI, the first that yields a value: \'split_amount\' (this side\'s Sale Commission Split $), \'split_percent\' (deal_commission x this side\'s Split %), \'total_commission\' (a single-side loop with no split filled gets the whole deal_commission); NULL when none applies and gci is unknown.';

COMMENT ON COLUMN reporting.loop_sides.gci IS 'Gross commission income of this side, by gci_rule; NULL when it cannot be derived (listed in reporting.data_quality for closed and under-contract sides). Set for open sides too, as the pipeline\'s expected GCI: filter is_closed for production.';

COMMENT ON COLUMN reporting.loop_sides.is_referral_only IS 'True for a referral: a commission with no deal price (missing or 0). It adds GCI but no volume and no unit.';

COMMENT ON COLUMN reporting.loop_sides.volume IS 'The side\'s sales volume: the Purchase/Sale Price; for a lease without a price, the Rent as entered (one rent payment, not the lease\'s total); 0 for a referral; NULL when the price is missing or unreadable. Filter is_closed for closed volume.';

COMMENT ON COLUMN reporting.loop_sides.units IS 'The side counted as a unit: 1, or 0 for a referral. Filter is_closed for closed units.';

COMMENT ON COLUMN reporting.loop_sides.agent_count IS 'How many agents with an e-mail work this side (LISTING_AGENTs on the sell side; BUYING_AGENTs, or TENANT_AGENTs on a lease, on the buy side); they share its GCI, volume and unit equally in reporting.agent_credits.';

COMMENT ON COLUMN reporting.loop_sides.agents_without_email IS 'Names of this side\'s agents who have no e-mail and so get no credit, comma-separated; NULL when there are none.';

CREATE TABLE reporting.agent_credits (
  loop_id BIGINT,
  profile_id BIGINT,
  loop_name VARCHAR,
  side VARCHAR,
  agent_email VARCHAR,
  agent_name VARCHAR,
  agent_role VARCHAR,
  transaction_type VARCHAR,
  status VARCHAR,
  is_closed BOOLEAN,
  closing_date DATE,
  closing_month DATE,
  agents_on_side INT,
  gci_credit DECIMAL(38, 9),
  volume_credit DECIMAL(38, 9),
  unit_credit DECIMAL(38, 9),
  gci_rule VARCHAR
);

COMMENT ON TABLE reporting.agent_credits IS 'One row per loop, represented side and agent working it: a LISTING_AGENT on the sell side; a BUYING_AGENT, or TENANT_AGENT on a lease, on the buy side. The agents of a side share its GCI, volume and unit equally. Agents are identified by e-mail (lower-cased); agents without one get no credit. Sum the credits over rows with is_closed for an agent\'s production; company totals come from reporting.loop_sides, which also counts sides without an agent.';

COMMENT ON COLUMN reporting.agent_credits.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.agent_credits.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.agent_credits.loop_name IS 'The loop\'s name, usually the property address.';

COMMENT ON COLUMN reporting.agent_credits.side IS 'The side the agent worked, \'buy\' or \'sell\'.';

COMMENT ON COLUMN reporting.agent_credits.agent_email IS 'The agent\'s e-mail address, lower-cased; identifies the agent.';

COMMENT ON COLUMN reporting.agent_credits.agent_name IS 'The agent\'s name: the one on the most recently updated loop where this e-mail works a side (the e-mail when no loop has a name).';

COMMENT ON COLUMN reporting.agent_credits.agent_role IS 'The agent\'s role in the loop: LISTING_AGENT, BUYING_AGENT or TENANT_AGENT.';

COMMENT ON COLUMN reporting.agent_credits.transaction_type IS 'The loop\'s Dotloop transaction type.';

COMMENT ON COLUMN reporting.agent_credits.status IS 'The loop\'s Dotloop status.';

COMMENT ON COLUMN reporting.agent_credits.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.agent_credits.closing_date IS 'The deal\'s closing date.';

COMMENT ON COLUMN reporting.agent_credits.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.agent_credits.agents_on_side IS 'How many agents share this side.';

COMMENT ON COLUMN reporting.agent_credits.gci_credit IS 'The agent\'s share of the side\'s GCI (reporting.loop_sides.gci divided by agents_on_side, unrounded); NULL when the side\'s GCI is unknown.';

COMMENT ON COLUMN reporting.agent_credits.volume_credit IS 'The agent\'s share of the side\'s volume.';

COMMENT ON COLUMN reporting.agent_credits.unit_credit IS 'The agent\'s share of the side\'s unit (0.5 for one of two agents).';

COMMENT ON COLUMN reporting.agent_credits.gci_rule IS 'The rule that gave the side\'s GCI: \'split_amount\', \'split_percent\', \'total_commission\', or NULL when the GCI is unknown.';
