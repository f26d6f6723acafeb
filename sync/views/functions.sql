-- Parsers for the free-typed strings of Dotloop loop details. The views call
-- these; they are the only definition of the parsing rules.
--
-- Run with search_path set to the helper schema alone: every function lands
-- there, and the SQL-standard bodies (RETURN ...) bind the names they call when
-- created, so no function depends on the search_path of whoever runs a query.
-- The PL/pgSQL ones (faster for several steps) call built-ins only.
-- Every parse function is IMMUTABLE, PARALLEL SAFE and never raises on bad
-- input: a value that does not read as the type is NULL, and the *_status
-- functions say why. The period helpers at the end say which days a report
-- covers.

-- Text with runs of white space (no-break spaces too) collapsed and trimmed;
-- NULL when nothing is left.
CREATE OR REPLACE FUNCTION clean_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN nullif(btrim(regexp_replace(value, '[\s\u00a0]+', ' ', 'g')), '');

-- What people type in a field that does not apply: n/a, none, TBD, -, ?.
CREATE OR REPLACE FUNCTION is_placeholder(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(
    lower(clean_text(value)) ~ '^(n/?a|none|nil|null|tb[ad]|unknown|-+|\?+)$',
    false
);

-- True when a field holds nothing usable: missing, blank or a placeholder.
CREATE OR REPLACE FUNCTION is_blank(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN clean_text(value) IS NULL OR is_placeholder(value);

-- 'ok' when the value was read; else why not: 'missing' (absent or blank),
-- 'placeholder' (n/a, TBD, -) or 'unparseable'.
CREATE OR REPLACE FUNCTION parse_status(value text, parsed boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN parsed THEN 'ok'
    WHEN clean_text(value) IS NULL THEN 'missing'
    WHEN is_placeholder(value) THEN 'placeholder'
    ELSE 'unparseable'
END;

-- Free text, cleaned; blanks and placeholders are NULL.
CREATE OR REPLACE FUNCTION parse_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN NOT is_placeholder(value) THEN clean_text(value) END;

CREATE OR REPLACE FUNCTION text_status(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN parse_status(value, parse_text(value) IS NOT NULL);

-- A whole number such as an id: digits with an optional sign.
CREATE OR REPLACE FUNCTION parse_integer(value text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN clean_text(value) ~ '^[+-]?[0-9]{1,18}$' THEN clean_text(value)::bigint
END;

CREATE OR REPLACE FUNCTION integer_status(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN parse_status(value, parse_integer(value) IS NOT NULL);

-- An amount of money: "650,000", "$735,000.00", "$ 1 200", "-50". Commas must
-- group thousands, so "65,00" is refused rather than read as 6500.
CREATE OR REPLACE FUNCTION parse_money(value text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN regexp_replace(value, '[$\s\u00a0]', '', 'g')
        ~ '^-?(([0-9]{1,3}(,[0-9]{3})+|[0-9]{1,30})(\.[0-9]{0,10})?|\.[0-9]{1,10})$'
    THEN replace(regexp_replace(value, '[$\s\u00a0]', '', 'g'), ',', '')::numeric
END;

CREATE OR REPLACE FUNCTION money_status(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN parse_status(value, parse_money(value) IS NOT NULL);

-- A percentage as a fraction: "6%", "6", "6.0 %" are 0.06, "50" is 0.5. A
-- number below 1 without a "%" is already a fraction: "0.06" is 0.06.
CREATE OR REPLACE FUNCTION parse_percent(value text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    cleaned text := regexp_replace(value, '[\s\u00a0]', '', 'g');
    amount numeric;
BEGIN
    IF cleaned !~ '^([0-9]{1,10}(\.[0-9]{0,10})?|\.[0-9]{1,10})%?$' THEN
        RETURN NULL;
    END IF;
    amount := rtrim(cleaned, '%');
    IF right(cleaned, 1) = '%' OR amount >= 1 THEN
        RETURN amount * 0.01;
    END IF;
    RETURN amount;
END
$$;

CREATE OR REPLACE FUNCTION percent_status(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN parse_status(value, parse_percent(value) IS NOT NULL);

-- A calendar date: "03/05/2026", "3/5/26", "2026-03-05" (a time after it is
-- ignored), "March 05, 2017", "March 5th, 2026", "Mar. 5 2026",
-- "5 March 2026". Slashed dates are month first, as Dotloop writes them; a
-- two-digit year is 2000-2069 or 1970-1999. Impossible dates (02/30) are NULL.
-- The common numeric forms are told apart with `~` and split, which is many
-- times faster than capturing groups with regexp_match().
CREATE OR REPLACE FUNCTION parse_date(value text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    cleaned text := lower(btrim(regexp_replace(value, '[\s\u00a0]+', ' ', 'g')));
    parts text[];
    y integer;
    m integer;
    d integer;
BEGIN
    IF cleaned ~ '^[0-9]{1,2}[/.-][0-9]{1,2}[/.-]([0-9]{4}|[0-9]{2})$' THEN
        parts := string_to_array(translate(cleaned, '.-', '//'), '/');
        m := parts[1];
        d := parts[2];
        y := parts[3];
        IF length(parts[3]) = 2 THEN
            y := y + CASE WHEN y < 70 THEN 2000 ELSE 1900 END;
        END IF;
    ELSIF cleaned ~ '^[0-9]{4}[/.-][0-9]{1,2}[/.-][0-9]{1,2}([t ].*)?$' THEN
        parts := string_to_array(
            translate(split_part(split_part(cleaned, 't', 1), ' ', 1), '.-', '//'),
            '/'
        );
        y := parts[1];
        m := parts[2];
        d := parts[3];
    ELSE
        -- Month name first ("March 5th, 2026"), else day first.
        parts := regexp_match(
            cleaned,
            '^([a-z]{3,9})\.? ?([0-9]{1,2})(?:st|nd|rd|th)?,? ?([0-9]{4})$'
        );
        IF parts IS NULL THEN
            parts := regexp_match(
                cleaned,
                '^([0-9]{1,2})(?:st|nd|rd|th)? ([a-z]{3,9})\.?,? ([0-9]{4})$'
            );
            parts := ARRAY[parts[2], parts[1], parts[3]];
        END IF;
        IF parts[1] !~ ('^(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may'
            || '|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?'
            || '|nov(ember)?|dec(ember)?)$')
        THEN
            RETURN NULL;
        END IF;
        m := array_position(
            ARRAY['jan', 'feb', 'mar', 'apr', 'may', 'jun',
                  'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
            left(parts[1], 3)
        );
        d := parts[2];
        y := parts[3];
    END IF;
    -- Checked before make_date(), which raises on an impossible date.
    IF y IS NULL OR y NOT BETWEEN 1800 AND 2200 OR m NOT BETWEEN 1 AND 12 OR d < 1
    THEN
        RETURN NULL;
    END IF;
    IF d > extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day') THEN
        RETURN NULL;
    END IF;
    RETURN make_date(y, m, d);
END
$$;

CREATE OR REPLACE FUNCTION date_status(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN parse_status(value, parse_date(value) IS NOT NULL);

-- An ISO 8601 instant as the API writes it ("2024-03-06T18:19:58Z"), with
-- optional fraction and offset; without an offset it is UTC. Once its fields
-- are checked, Postgres reads it: an ISO date with an explicit offset means
-- the same whatever the session's DateStyle and TimeZone.
CREATE OR REPLACE FUNCTION parse_timestamp(value text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    cleaned text := upper(btrim(value));
    y integer;
    m integer;
    d integer;
BEGIN
    IF cleaned !~ ('^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}'
        || '(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$')
    THEN
        RETURN NULL;
    END IF;
    y := substr(cleaned, 1, 4);
    m := substr(cleaned, 6, 2);
    d := substr(cleaned, 9, 2);
    IF y NOT BETWEEN 1800 AND 2200 OR m NOT BETWEEN 1 AND 12 OR d < 1
        OR substr(cleaned, 12, 2)::integer > 23
        OR substr(cleaned, 15, 2)::integer > 59
        OR (substr(cleaned, 17, 1) = ':' AND substr(cleaned, 18, 2)::integer > 59)
    THEN
        RETURN NULL;
    END IF;
    IF d > extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day') THEN
        RETURN NULL;
    END IF;
    IF cleaned !~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN
        cleaned := cleaned || 'Z';
    END IF;
    RETURN cleaned::timestamptz;
END
$$;

CREATE OR REPLACE FUNCTION timestamp_status(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN parse_status(value, parse_timestamp(value) IS NOT NULL);

-- Why a value was left out: {"label", "parse", "value"} when the field holds
-- something (not blank, not a placeholder) that parsing did not read; else
-- NULL. The caller passes whether its parse_<kind>() gave a value.
CREATE OR REPLACE FUNCTION unreadable(
    label text, kind text, value text, parsed boolean
) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN NOT parsed AND NOT is_blank(value)
    THEN jsonb_object(ARRAY['label', label, 'parse', kind, 'value', value])
END;

-- The text under a key of a JSON object, matching the key's letter case
-- loosely when the exact key is absent (participant extras vary in case).
CREATE OR REPLACE FUNCTION json_text(object jsonb, wanted text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    loose_match text;
BEGIN
    IF jsonb_typeof(object) IS DISTINCT FROM 'object' THEN
        RETURN NULL;
    END IF;
    IF object ? wanted THEN
        RETURN object ->> wanted;
    END IF;
    SELECT e.value INTO loose_match
    FROM jsonb_each_text(object) AS e
    WHERE lower(e.key) = lower(wanted)
    ORDER BY e.key
    LIMIT 1;
    RETURN loose_match;
END
$$;

-- The day year-to-date figures run to: the setting dotloop_reporter.anchor_date
-- when set (`SET dotloop_reporter.anchor_date = '2026-06-30'` reports as of
-- that day), else today. STABLE: the same all through one statement.
CREATE OR REPLACE FUNCTION period_anchor() RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(
    nullif(current_setting('dotloop_reporter.anchor_date', true), '')::date,
    current_date
);

-- An anniversary's month and day in another year; February 29 falls on
-- February 28 in a year without one.
CREATE OR REPLACE FUNCTION anniversary_in(anniversary date, year integer)
RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
    anniversary
    + make_interval(years => year - extract(year FROM anniversary)::integer)
)::date;

-- The first day of the cap year holding `day`: the latest anniversary month
-- and day on or before it (January 1 without an anniversary).
CREATE OR REPLACE FUNCTION cap_year_start(anniversary date, day date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN anniversary_in(
        coalesce(anniversary, date '2000-01-01'), extract(year FROM day)::integer
    ) <= day
    THEN anniversary_in(
        coalesce(anniversary, date '2000-01-01'), extract(year FROM day)::integer
    )
    ELSE anniversary_in(
        coalesce(anniversary, date '2000-01-01'), extract(year FROM day)::integer - 1
    )
END;
