-- The brokerage configuration the reporting views read: offices and the
-- Dotloop profiles they own, teams, commission plans and the roster of the
-- brokerage's own agents. {config} is the configured config schema.
-- `dotloop-reporter brokerage load` replaces every row from a YAML file; an
-- admin may as well write the rows with SQL. Every statement is idempotent.
-- The reporting reader role reads none of it except through the views.
CREATE SCHEMA IF NOT EXISTS {config};

CREATE TABLE IF NOT EXISTS {config}.office (
    name text PRIMARY KEY CHECK (name <> '')
);
COMMENT ON TABLE {config}.office IS
    'Offices of the brokerage; sides and agent credits are reported by office.';

CREATE TABLE IF NOT EXISTS {config}.office_profile (
    profile_id bigint PRIMARY KEY,
    office text NOT NULL REFERENCES {config}.office (name) ON UPDATE CASCADE
);
COMMENT ON TABLE {config}.office_profile IS
    'The Dotloop profiles of each office: a loop belongs to the office of its profile.';

CREATE TABLE IF NOT EXISTS {config}.team (
    name text PRIMARY KEY CHECK (name <> ''),
    office text REFERENCES {config}.office (name) ON UPDATE CASCADE
);
COMMENT ON TABLE {config}.team IS 'Teams of agents; office is informational.';

CREATE TABLE IF NOT EXISTS {config}.plan (
    name text PRIMARY KEY CHECK (name <> ''),
    agent_split_percent numeric NOT NULL
        CHECK (agent_split_percent BETWEEN 0 AND 100),
    per_deal_fee numeric NOT NULL DEFAULT 0 CHECK (per_deal_fee >= 0),
    cap numeric CHECK (cap >= 0)
);
COMMENT ON TABLE {config}.plan IS
    'Commission plans: the agent''s percent of adjusted GCI until the cap, a fee '
    'per closed side and the company dollar cap per cap year (NULL: no cap).';

CREATE TABLE IF NOT EXISTS {config}.agent (
    email text PRIMARY KEY CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    name text CHECK (name <> ''),
    team text REFERENCES {config}.team (name) ON UPDATE CASCADE,
    office text REFERENCES {config}.office (name) ON UPDATE CASCADE,
    plan text REFERENCES {config}.plan (name) ON UPDATE CASCADE,
    anniversary date
);
COMMENT ON TABLE {config}.agent IS
    'The roster: the brokerage''s own agents by lower-cased e-mail. Once it has '
    'a row, only these agents get credits and only sides they work count. The '
    'cap year starts each year on the anniversary''s month and day (January 1 '
    'when NULL).';
