-- Source system D's processed events, written by the consumer: the read model behind /events/processed,
-- users' timelines and the stats. `seq` is the processing order; `event_id` makes storing idempotent.
CREATE TABLE events (
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  event_id uuid PRIMARY KEY,
  user_id text NOT NULL,
  event_type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  payload jsonb,
  processed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_user_seq ON events (user_id, seq);
CREATE INDEX events_type_seq ON events (event_type, seq);
CREATE INDEX events_occurred ON events (occurred_at);
