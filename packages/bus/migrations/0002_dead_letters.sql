-- Messages a consumer group gave up on: the handler failed on every attempt, or the message was not a
-- valid event. Kept with everything needed to understand and replay them.
CREATE TABLE dead_letters (
  id uuid PRIMARY KEY,
  consumer_group text NOT NULL,
  topic text NOT NULL,
  -- Null when the message could not be read as an event at all.
  event_id uuid,
  event_type text,
  partition_key text,
  -- The message as it arrived: the envelope for events, the raw text otherwise.
  payload text NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}',
  reason text NOT NULL CHECK (reason IN ('handler_failed', 'malformed', 'schema')),
  error text NOT NULL,
  stack text,
  attempts integer NOT NULL,
  first_failed_at timestamptz NOT NULL,
  last_failed_at timestamptz NOT NULL,
  replayed_at timestamptz,
  replay_count integer NOT NULL DEFAULT 0
);
CREATE INDEX dead_letters_filter ON dead_letters (topic, consumer_group, event_type, last_failed_at);
