-- reporting.loop_participants: generated from datasets/loop_participants.yaml; edit the spec, not this SQL.
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

CREATE INDEX loop_participants_loop_id_idx ON reporting.loop_participants(loop_id);

CREATE INDEX loop_participants_email_idx ON reporting.loop_participants(email);

COMMENT ON TABLE reporting.loop_participants IS 'One row per participant of a loop in reporting.loops: buyers, sellers, agents, brokers, lenders and others, with the role they hold in that loop. Agents are identified by e-mail, trimmed and lower-cased.';

COMMENT ON COLUMN reporting.loop_participants.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.loop_participants.profile_id IS 'The Dotloop profile the loop belongs to (reporting.loops.profile_id).';

COMMENT ON COLUMN reporting.loop_participants.participant_order IS 'Position of the participant in the loop''s participant list, from 1.';

COMMENT ON COLUMN reporting.loop_participants.participant_id IS 'Dotloop''s id of the participant within the loop.';

COMMENT ON COLUMN reporting.loop_participants.full_name IS 'The participant''s name as entered in the loop.';

COMMENT ON COLUMN reporting.loop_participants.email IS 'The participant''s e-mail address, trimmed and lower-cased: the key that identifies an agent across loops and profiles.';

COMMENT ON COLUMN reporting.loop_participants.role IS 'The participant''s role in the loop, such as LISTING_AGENT, BUYING_AGENT, TENANT_AGENT, BUYER, SELLER, MANAGING_BROKER or ADMIN.';

COMMENT ON COLUMN reporting.loop_participants.agent_side IS 'The side this participant works as an agent: ''sell'' for a LISTING_AGENT, ''buy'' for a BUYING_AGENT or, on a lease, a TENANT_AGENT; NULL for every other role.';

INSERT INTO reporting.loop_participants
SELECT
  CAST(l.loop_id AS BIGINT) AS loop_id,
  CAST(l.profile_id AS BIGINT) AS profile_id,
  CAST(p.ordinal AS INT) AS participant_order,
  CAST(reporting_lib.parse_integer(reporting_lib.json_text(p.participant, 'id')) AS BIGINT) AS participant_id,
  CAST(reporting_lib.parse_text(reporting_lib.json_text(p.participant, 'fullName')) AS TEXT) AS full_name,
  CAST(LOWER(reporting_lib.parse_text(reporting_lib.json_text(p.participant, 'email'))) AS TEXT) AS email,
  _c0.role AS role,
  CAST(CASE
    WHEN _c0.role = 'LISTING_AGENT'
    THEN 'sell'
    WHEN _c0.role = 'BUYING_AGENT'
    THEN 'buy'
    WHEN _c0.role = 'TENANT_AGENT' AND l.is_lease
    THEN 'buy'
  END AS TEXT) AS agent_side
FROM reporting.loops AS l
JOIN dotloop_raw.loop AS r
  ON r.loop_id = l.loop_id
CROSS JOIN LATERAL JSONB_ARRAY_ELEMENTS(
  CASE
    WHEN JSONB_TYPEOF(r.participants) = 'array'
    THEN r.participants
    ELSE CAST('[]' AS JSONB)
  END
) WITH ORDINALITY AS p(participant, ordinal)
CROSS JOIN LATERAL (
  SELECT
    CAST(UPPER(reporting_lib.parse_text(reporting_lib.json_text(p.participant, 'role'))) AS TEXT) AS role
  OFFSET 0
) AS _c0;
