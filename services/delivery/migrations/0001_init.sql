-- What the delivery workers have done with each delivery. A row is written as `sending` and committed
-- before the provider is called, so after a crash the worker knows the send may have started; `sent`
-- and `delivered` stop any later copy of the work (redelivery, a replayed dead letter) from sending again.
CREATE TABLE sends (
  delivery_id uuid PRIMARY KEY,
  channel text NOT NULL,
  state text NOT NULL CHECK (state IN ('sending', 'sent', 'delivered', 'failed', 'cancelled')),
  attempts integer NOT NULL,
  provider text,
  provider_message_id text,
  updated_at timestamptz NOT NULL
);
