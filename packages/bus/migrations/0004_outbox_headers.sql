-- Extra broker headers per event (e.g. source D's `event-type` and `event-id`), sent as written.
ALTER TABLE outbox ADD COLUMN headers jsonb NOT NULL DEFAULT '{}';
