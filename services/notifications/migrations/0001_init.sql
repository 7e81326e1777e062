-- A request to notify: stored, with its deliveries, before the API answers 202.
CREATE TABLE requests (
  request_id text PRIMARY KEY,
  -- Same key and same body → the stored response; same key, other body → 422.
  idempotency_key text UNIQUE,
  body_hash text NOT NULL,
  -- scheduled (waits for scheduled_at) → accepted (dispatch queued) → cancelled
  status text NOT NULL CHECK (status IN ('scheduled', 'accepted', 'cancelled')),
  priority text NOT NULL,
  category text,
  template_code text,
  -- The template of each channel: {"email": "welcome-email", "push": "welcome-push"}.
  templates jsonb,
  language text,
  variables jsonb NOT NULL,
  content jsonb,
  channels text[] NOT NULL,
  scheduled_at timestamptz,
  created_by uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX requests_due ON requests (scheduled_at) WHERE status = 'scheduled';

-- One recipient on one channel.
CREATE TABLE deliveries (
  id uuid PRIMARY KEY,
  request_id text NOT NULL REFERENCES requests (request_id) ON DELETE CASCADE,
  recipient_index integer NOT NULL,
  user_id uuid,
  -- A direct address (email, E.164 number, push token, webhook URL) when no user id was given.
  address text,
  channel text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'skipped', 'cancelled')),
  reason text,
  -- Quiet hours: not before this instant.
  not_before timestamptz,
  -- When the work went to the delivery workers; a delivery is queued once.
  queued_at timestamptz,
  provider text,
  attempts integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  UNIQUE (request_id, recipient_index, channel)
);
CREATE INDEX deliveries_request ON deliveries (request_id, recipient_index);
CREATE INDEX deliveries_delayed ON deliveries (not_before) WHERE status = 'pending' AND queued_at IS NULL;

CREATE TABLE attempts (
  delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  outcome text NOT NULL,
  at timestamptz NOT NULL,
  provider text NOT NULL,
  error text,
  provider_message_id text,
  PRIMARY KEY (delivery_id, attempt, outcome)
);

-- In-app notifications: the user's inbox.
CREATE TABLE inbox (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  delivery_id uuid UNIQUE,
  request_id text,
  title text,
  body text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  category text,
  created_at timestamptz NOT NULL,
  read_at timestamptz,
  archived_at timestamptz
);
CREATE INDEX inbox_user ON inbox (user_id, created_at DESC, id DESC) WHERE archived_at IS NULL;
CREATE INDEX inbox_unread ON inbox (user_id) WHERE read_at IS NULL AND archived_at IS NULL;
