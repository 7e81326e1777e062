-- Users: source system C's user-service columns kept by name (id, name, email, password, push_token,
-- email_preference, push_preference, created_at, updated_at), plus role and status for auth and the
-- preferences C lacks. One row per user, so a user and their preferences are read in one lookup.
-- Timestamps come from the application clock at millisecond precision, so keyset cursors compare exactly.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  -- Stored lower-cased by the service; the unique index below holds even for rows written otherwise.
  email text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  password text NOT NULL,
  push_token text CHECK (char_length(push_token) BETWEEN 1 AND 4096),
  email_preference boolean NOT NULL DEFAULT true,
  push_preference boolean NOT NULL DEFAULT true,
  sms_preference boolean NOT NULL DEFAULT true,
  in_app_preference boolean NOT NULL DEFAULT true,
  webhook_preference boolean NOT NULL DEFAULT true,
  category_opt_outs text[] NOT NULL DEFAULT '{}' CHECK (cardinality(category_opt_outs) <= 100),
  quiet_hours_start text CHECK (quiet_hours_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  quiet_hours_end text CHECK (quiet_hours_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  -- IANA name, validated and canonicalised by the service (PostgreSQL's zone list may differ from ICU's).
  quiet_hours_time_zone text,
  locale text NOT NULL DEFAULT 'en' CHECK (char_length(locale) BETWEEN 1 AND 35),
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'operator', 'member')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT users_quiet_hours_whole CHECK (
    (quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)
    AND (quiet_hours_start IS NULL) = (quiet_hours_time_zone IS NULL)
  )
);
COMMENT ON COLUMN users.password IS 'argon2id hash in PHC format (source C''s column name); never the password';

-- Unique case-insensitively; text_pattern_ops also serves prefix search (LIKE 'q%') in any collation, and
-- equality, so login lookups and search share the one index.
CREATE UNIQUE INDEX users_email_lower ON users (lower(email) text_pattern_ops);
-- Prefix search on the name. Substring search would need pg_trgm, which is not always installed; a prefix
-- stays an index range scan however many users there are.
CREATE INDEX users_name_lower ON users (lower(name) text_pattern_ops);
-- Keyset pagination, newest first, alone or behind a role or status filter.
CREATE INDEX users_created ON users (created_at, id);
CREATE INDEX users_role_created ON users (role, created_at, id);
CREATE INDEX users_status_created ON users (status, created_at, id);
