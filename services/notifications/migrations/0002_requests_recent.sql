-- The request list (GET /api/v1/notifications): newest first, in keyset order.
CREATE INDEX requests_recent ON requests (created_at DESC, request_id DESC);
