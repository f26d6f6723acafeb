-- reporting.loops: generated from datasets/loops.yaml; edit the spec, not this SQL.
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
  price NUMERIC,
  commission_rate NUMERIC,
  commission_total NUMERIC,
  buy_side_split_percent NUMERIC,
  sell_side_split_percent NUMERIC,
  buy_side_split_amount NUMERIC,
  sell_side_split_amount NUMERIC,
  buy_side_split_entered BOOLEAN,
  sell_side_split_entered BOOLEAN,
  earnest_money NUMERIC,
  rent NUMERIC,
  rent_commission NUMERIC,
  price_missing BOOLEAN,
  deal_commission NUMERIC,
  contract_date DATE,
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  listing_date DATE,
  original_price NUMERIC,
  current_price NUMERIC,
  referral_percent NUMERIC,
  referral_source TEXT,
  days_to_close INT,
  days_on_market INT,
  unparsed_fields JSONB
);

CREATE INDEX loops_loop_id_idx ON reporting.loops(loop_id);

CREATE INDEX loops_closing_month_idx ON reporting.loops(closing_month);

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

INSERT INTO reporting.loops
SELECT
  CAST(l.loop_id AS BIGINT) AS loop_id,
  CAST(COALESCE(
    reporting_lib.parse_integer(l.summary ->> 'profileId'),
    (
      SELECT
        MIN(lp.profile_id)
      FROM dotloop_raw.loop_profile AS lp
      WHERE
        lp.loop_id = l.loop_id
    )
  ) AS BIGINT) AS profile_id,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.summary, 'name')) AS TEXT) AS name,
  _c0.transaction_type AS transaction_type,
  _c0.status AS status,
  _c1.is_lease AS is_lease,
  CAST(CASE
    WHEN _c0.transaction_type IN ('PURCHASE_OFFER', 'LEASE_OFFER')
    THEN 'buy'
    WHEN _c0.transaction_type IN ('LISTING_FOR_SALE', 'LISTING_FOR_LEASE')
    THEN 'sell'
  END AS TEXT) AS represented_side,
  CAST(COALESCE(_c0.status = CASE WHEN _c1.is_lease THEN 'LEASED' ELSE 'SOLD' END, FALSE) AS BOOLEAN) AS is_closed,
  _c0.created AS created,
  _c0.updated AS updated,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.summary, 'loopUrl')) AS TEXT) AS loop_url,
  _c0.street_number AS street_number,
  _c0.street_name AS street_name,
  _c0.unit_number AS unit_number,
  CAST(NULLIF(CONCAT_WS(' ', _c0.street_number, _c0.street_name, _c0.unit_number), '') AS TEXT) AS street_address,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'City')) AS TEXT) AS city,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'State/Prov')) AS TEXT) AS state,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'Zip/Postal Code')) AS TEXT) AS postal_code,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'County')) AS TEXT) AS county,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'Country')) AS TEXT) AS country,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'MLS Number')) AS TEXT) AS mls_number,
  _c0.price AS price,
  _c0.commission_rate AS commission_rate,
  _c0.commission_total AS commission_total,
  _c0.buy_side_split_percent AS buy_side_split_percent,
  _c0.sell_side_split_percent AS sell_side_split_percent,
  _c0.buy_side_split_amount AS buy_side_split_amount,
  _c0.sell_side_split_amount AS sell_side_split_amount,
  CAST(NOT (
    reporting_lib.is_blank(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split % - Buy Side')
    )
    AND reporting_lib.is_blank(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split $ - Buy Side')
    )
  ) AS BOOLEAN) AS buy_side_split_entered,
  CAST(NOT (
    reporting_lib.is_blank(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split % - Sell Side')
    )
    AND reporting_lib.is_blank(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split $ - Sell Side')
    )
  ) AS BOOLEAN) AS sell_side_split_entered,
  _c0.earnest_money AS earnest_money,
  _c0.rent AS rent,
  _c0.rent_commission AS rent_commission,
  CAST(COALESCE(
    (
      _c0.price = 0
      OR reporting_lib.is_blank(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Purchase/Sale Price'))
    )
    AND (
      NOT _c1.is_lease
      OR _c0.rent = 0
      OR reporting_lib.is_blank(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Rent'))
    ),
    FALSE
  ) AS BOOLEAN) AS price_missing,
  CAST(COALESCE(
    _c0.commission_total,
    _c0.price * _c0.commission_rate,
    CASE WHEN _c1.is_lease THEN _c0.rent_commission END
  ) AS NUMERIC) AS deal_commission,
  _c0.contract_date AS contract_date,
  _c0.closing_date AS closing_date,
  CAST(DATE_TRUNC('MONTH', CAST(_c0.closing_date AS TIMESTAMP)) AS DATE) AS closing_month,
  CAST(EXTRACT(YEAR FROM _c0.closing_date) AS INT) AS closing_year,
  _c0.listing_date AS listing_date,
  _c0.original_price AS original_price,
  _c0.current_price AS current_price,
  _c0.referral_percent AS referral_percent,
  CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Referral', 'Referral Source')) AS TEXT) AS referral_source,
  CAST(_c0.closing_date - _c0.contract_date AS INT) AS days_to_close,
  CAST(_c0.contract_date - _c0.listing_date AS INT) AS days_on_market,
  CAST(JSONB_STRIP_NULLS(
    JSONB_BUILD_OBJECT(
      'created',
      reporting_lib.unreadable(
        'created',
        'timestamp',
        JSONB_EXTRACT_PATH_TEXT(l.summary, 'created'),
        NOT _c0.created IS NULL
      ),
      'updated',
      reporting_lib.unreadable(
        'updated',
        'timestamp',
        JSONB_EXTRACT_PATH_TEXT(l.summary, 'updated'),
        NOT _c0.updated IS NULL
      ),
      'price',
      reporting_lib.unreadable(
        'Financials / Purchase/Sale Price',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Purchase/Sale Price'),
        NOT _c0.price IS NULL
      ),
      'commission_rate',
      reporting_lib.unreadable(
        'Financials / Sale Commission Rate',
        'percent',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Rate'),
        NOT _c0.commission_rate IS NULL
      ),
      'commission_total',
      reporting_lib.unreadable(
        'Financials / Sale Commission Total',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Total'),
        NOT _c0.commission_total IS NULL
      ),
      'buy_side_split_percent',
      reporting_lib.unreadable(
        'Financials / Sale Commission Split % - Buy Side',
        'percent',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split % - Buy Side'),
        NOT _c0.buy_side_split_percent IS NULL
      ),
      'sell_side_split_percent',
      reporting_lib.unreadable(
        'Financials / Sale Commission Split % - Sell Side',
        'percent',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split % - Sell Side'),
        NOT _c0.sell_side_split_percent IS NULL
      ),
      'buy_side_split_amount',
      reporting_lib.unreadable(
        'Financials / Sale Commission Split $ - Buy Side',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split $ - Buy Side'),
        NOT _c0.buy_side_split_amount IS NULL
      ),
      'sell_side_split_amount',
      reporting_lib.unreadable(
        'Financials / Sale Commission Split $ - Sell Side',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split $ - Sell Side'),
        NOT _c0.sell_side_split_amount IS NULL
      ),
      'earnest_money',
      reporting_lib.unreadable(
        'Financials / Earnest Money Amount',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Earnest Money Amount'),
        NOT _c0.earnest_money IS NULL
      ),
      'rent',
      reporting_lib.unreadable(
        'Financials / Rent',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Rent'),
        NOT _c0.rent IS NULL
      ),
      'rent_commission',
      reporting_lib.unreadable(
        'Financials / Rent Commission Amount',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Rent Commission Amount'),
        NOT _c0.rent_commission IS NULL
      ),
      'contract_date',
      reporting_lib.unreadable(
        'Contract Dates / Contract Agreement Date',
        'date',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Contract Dates', 'Contract Agreement Date'),
        NOT _c0.contract_date IS NULL
      ),
      'closing_date',
      reporting_lib.unreadable(
        'Contract Dates / Closing Date',
        'date',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Contract Dates', 'Closing Date'),
        NOT _c0.closing_date IS NULL
      ),
      'listing_date',
      reporting_lib.unreadable(
        'Listing Information / Listing Date',
        'date',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Listing Information', 'Listing Date'),
        NOT _c0.listing_date IS NULL
      ),
      'original_price',
      reporting_lib.unreadable(
        'Listing Information / Original Price',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Listing Information', 'Original Price'),
        NOT _c0.original_price IS NULL
      ),
      'current_price',
      reporting_lib.unreadable(
        'Listing Information / Current Price',
        'money',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Listing Information', 'Current Price'),
        NOT _c0.current_price IS NULL
      ),
      'referral_percent',
      reporting_lib.unreadable(
        'Referral / Referral %',
        'percent',
        JSONB_EXTRACT_PATH_TEXT(l.details, 'Referral', 'Referral %'),
        NOT _c0.referral_percent IS NULL
      )
    )
  ) AS JSONB) AS unparsed_fields
FROM dotloop_raw.loop AS l
CROSS JOIN LATERAL (
  SELECT
    CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.summary, 'transactionType')) AS TEXT) AS transaction_type,
    CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.summary, 'status')) AS TEXT) AS status,
    CAST(reporting_lib.parse_timestamp(JSONB_EXTRACT_PATH_TEXT(l.summary, 'created')) AS TIMESTAMPTZ) AS created,
    CAST(reporting_lib.parse_timestamp(JSONB_EXTRACT_PATH_TEXT(l.summary, 'updated')) AS TIMESTAMPTZ) AS updated,
    CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'Street Number')) AS TEXT) AS street_number,
    CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'Street Name')) AS TEXT) AS street_name,
    CAST(reporting_lib.parse_text(JSONB_EXTRACT_PATH_TEXT(l.details, 'Property Address', 'Unit Number')) AS TEXT) AS unit_number,
    CAST(reporting_lib.parse_money(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Purchase/Sale Price')) AS NUMERIC) AS price,
    CAST(reporting_lib.parse_percent(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Rate')) AS NUMERIC) AS commission_rate,
    CAST(reporting_lib.parse_money(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Total')) AS NUMERIC) AS commission_total,
    CAST(reporting_lib.parse_percent(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split % - Buy Side')
    ) AS NUMERIC) AS buy_side_split_percent,
    CAST(reporting_lib.parse_percent(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split % - Sell Side')
    ) AS NUMERIC) AS sell_side_split_percent,
    CAST(reporting_lib.parse_money(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split $ - Buy Side')
    ) AS NUMERIC) AS buy_side_split_amount,
    CAST(reporting_lib.parse_money(
      JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Sale Commission Split $ - Sell Side')
    ) AS NUMERIC) AS sell_side_split_amount,
    CAST(reporting_lib.parse_money(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Earnest Money Amount')) AS NUMERIC) AS earnest_money,
    CAST(reporting_lib.parse_money(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Rent')) AS NUMERIC) AS rent,
    CAST(reporting_lib.parse_money(JSONB_EXTRACT_PATH_TEXT(l.details, 'Financials', 'Rent Commission Amount')) AS NUMERIC) AS rent_commission,
    CAST(reporting_lib.parse_date(JSONB_EXTRACT_PATH_TEXT(l.details, 'Contract Dates', 'Contract Agreement Date')) AS DATE) AS contract_date,
    CAST(reporting_lib.parse_date(JSONB_EXTRACT_PATH_TEXT(l.details, 'Contract Dates', 'Closing Date')) AS DATE) AS closing_date,
    CAST(reporting_lib.parse_date(JSONB_EXTRACT_PATH_TEXT(l.details, 'Listing Information', 'Listing Date')) AS DATE) AS listing_date,
    CAST(reporting_lib.parse_money(JSONB_EXTRACT_PATH_TEXT(l.details, 'Listing Information', 'Original Price')) AS NUMERIC) AS original_price,
    CAST(reporting_lib.parse_money(JSONB_EXTRACT_PATH_TEXT(l.details, 'Listing Information', 'Current Price')) AS NUMERIC) AS current_price,
    CAST(reporting_lib.parse_percent(JSONB_EXTRACT_PATH_TEXT(l.details, 'Referral', 'Referral %')) AS NUMERIC) AS referral_percent
  OFFSET 0
) AS _c0
CROSS JOIN LATERAL (
  SELECT
    CAST(COALESCE(_c0.transaction_type IN ('LEASE_OFFER', 'LISTING_FOR_LEASE'), FALSE) AS BOOLEAN) AS is_lease
  OFFSET 0
) AS _c1
WHERE
  l.removed_at IS NULL;
