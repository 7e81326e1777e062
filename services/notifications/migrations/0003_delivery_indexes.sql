-- The dispatcher looks up the deliveries of a batch of requests that are not queued yet. Before the table
-- had statistics the planner walked `deliveries_delayed` (every undispatched delivery, since its
-- predicate was exactly the lookup's) and filtered on request_id: 6.7 ms per request with 30,000
-- waiting, against 0.03 ms through the (request_id, recipient_index, channel) index. Holding only the
-- deliveries that quiet hours hold (not_before set), it no longer matches the lookup, costs nothing to
-- keep for the rest, and still serves the scheduler's `not_before <= now`.
DROP INDEX deliveries_delayed;
CREATE INDEX deliveries_delayed ON deliveries (not_before)
  WHERE not_before IS NOT NULL AND status = 'pending' AND queued_at IS NULL;
-- The unique (request_id, recipient_index, channel) index serves every lookup this one did.
DROP INDEX deliveries_request;
