-- How far the outbox relay has published to the broker. Locked while a batch is in flight, so one relay
-- at a time publishes, whatever the number of processes.
CREATE TABLE relay_offsets (
  relay text PRIMARY KEY,
  last_txid xid8 NOT NULL DEFAULT '0',
  last_position bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
