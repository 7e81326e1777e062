-- Where each consumer group stands in the outbox. The row is locked while a batch is handled, so one
-- process at a time works for a group, and it is updated in the same transaction as the handler's writes.
CREATE TABLE consumer_offsets (
  consumer_group text PRIMARY KEY,
  last_txid xid8 NOT NULL DEFAULT '0',
  last_position bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
