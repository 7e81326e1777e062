-- Templates: source system C's columns kept by name (id, code, name, type, subject, content, language,
-- version, is_active, created_at, updated_at), plus text_content (an email's text/plain part) and
-- created_by. One row per version of a code in a language; a version's bodies never change after it is
-- written, only is_active (and updated_at with it). Timestamps come from the application clock.
CREATE TABLE templates (
  id uuid PRIMARY KEY,
  code text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  type text NOT NULL CHECK (type IN ('email', 'push', 'sms', 'in_app', 'webhook')),
  subject text CHECK (char_length(subject) BETWEEN 1 AND 1000),
  content text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 100000),
  -- Email only. Null means the text part is derived from the rendered HTML, which is what most senders
  -- want; a hand-written one wins when a layout reads badly as text.
  text_content text CHECK (char_length(text_content) BETWEEN 1 AND 100000),
  -- BCP 47, canonical form (validated by the service against ICU's language list).
  language text NOT NULL DEFAULT 'en' CHECK (char_length(language) BETWEEN 1 AND 35),
  version integer NOT NULL CHECK (version >= 1),
  is_active boolean NOT NULL DEFAULT false,
  -- The user (for an API key, the admin who made it) who wrote the version; no foreign key, since users
  -- live in another service's schema.
  created_by uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT templates_email_has_subject CHECK (type <> 'email' OR subject IS NOT NULL),
  CONSTRAINT templates_subject_where_shown CHECK (type NOT IN ('sms', 'webhook') OR subject IS NULL),
  CONSTRAINT templates_text_content_email_only CHECK (type = 'email' OR text_content IS NULL)
);

-- Source C's (code, language) index, made unique with the version: its leading columns serve every
-- lookup by code and language (history, latest version), so a separate (code, language) index would only
-- cost writes.
CREATE UNIQUE INDEX templates_code_language_version ON templates (code, language, version);
-- Source C's (code, version) index.
CREATE INDEX templates_code_version ON templates (code, version);
-- At most one live version per code and language, whatever the application does; it is also the index
-- the render path reads.
CREATE UNIQUE INDEX templates_one_active ON templates (code, language) WHERE is_active;
