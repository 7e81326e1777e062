-- Signing keys for access tokens. The private half is sealed (AES-256-GCM) with a key derived from
-- SWITCHYARD_SECRET_KEY, so a database dump alone cannot mint tokens. A key signs until `retires_at`
-- and stays published in the JWKS until `expires_at`, when the last token it signed has expired.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_jwk jsonb NOT NULL,
  sealed_private_key text NOT NULL,
  created_at timestamptz NOT NULL,
  retires_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);

-- A login session is one refresh-token family: every rotation stays in it, and reuse of a spent token
-- revokes it whole.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  -- Rotation never extends a session past this.
  absolute_expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text,
  user_agent text,
  ip text
);
CREATE INDEX sessions_user ON sessions (user_id, created_at) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
  token_hash bytea PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Failed logins are counted per normalised email whether or not an account has it, so a lockout says
-- nothing about which accounts exist.
CREATE TABLE login_failures (
  email text PRIMARY KEY,
  failures integer NOT NULL,
  window_started_at timestamptz NOT NULL,
  locked_until timestamptz
);

CREATE TABLE totp_factors (
  user_id uuid PRIMARY KEY,
  sealed_secret text NOT NULL,
  enabled_at timestamptz,
  -- The 30-second step of the last accepted code; a code is accepted once, so never at or below it.
  last_used_step bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL
);

CREATE TABLE recovery_codes (
  user_id uuid NOT NULL,
  code_hash bytea NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  -- The first characters of the key, shown in lists so people can tell keys apart.
  prefix text NOT NULL,
  key_hash bytea NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'member')),
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);

-- One-time links that let the first admin be created when no credentials were configured.
CREATE TABLE setup_tokens (
  token_hash bytea PRIMARY KEY,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
