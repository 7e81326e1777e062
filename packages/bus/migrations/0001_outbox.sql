-- The transactional outbox: services append here in the same transaction as their own rows.
-- txid orders events by the transaction that wrote them; readers only look below the oldest open
-- transaction (pg_snapshot_xmin), so an event from a slow transaction is never skipped.
CREATE TABLE outbox (
  position bigint GENERATED ALWAYS AS IDENTITY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  topic text NOT NULL,
  event_id uuid NOT NULL,
  partition_key text NOT NULL,
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (txid, position)
);
CREATE INDEX outbox_topic_order ON outbox (topic, txid, position);

-- One row per event a consumer group has handled, written in the handler's own transaction, so an event
-- delivered again (replay, broker redelivery) has no second effect.
CREATE TABLE processed_events (
  consumer_group text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, event_id)
);
