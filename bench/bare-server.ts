// Baseline for bench/tasks.ts (`POST /bare`, 201) and bench/notifications.ts (`POST /bare-202`, 202): a
// bare Fastify 5 app, run in its own process so it does not share an event loop with the load generator.
// Listens on a free loopback port and prints `{"port":<n>}` on stdout once it is ready; SIGTERM closes it.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

interface BareBody {
  title?: unknown;
}

const app = Fastify({ logger: false });

app.post<{ Body: BareBody }>('/bare', async (request, reply) => {
  const title = typeof request.body?.title === 'string' ? request.body.title : 'untitled';
  return reply.code(201).send({ id: randomUUID(), title, status: 'pending' });
});

// What `POST /api/v1/notifications` answers, without validation, identity, storage or logging.
app.post('/bare-202', async (_request, reply) => {
  return reply
    .code(202)
    .send({ request_id: randomUUID(), status: 'pending', deliveries: 1, scheduled_at: null });
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error('bare server: no TCP address');
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
