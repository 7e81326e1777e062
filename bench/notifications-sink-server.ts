// bench/notifications-sink.ts in a process of its own, so receiving mail does not take turns with the
// load generator's event loop. Prints `{"msg":"bench sink ready","smtp":…,"control":…}` once it listens;
// the bench reads what it noted over HTTP on loopback:
//   GET /counts              SinkCounts
//   GET /arrivals?phase=B    PhaseArrivals of one phase
// SIGTERM closes both servers.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBenchSink } from './notifications-sink.ts';

const sink = await startBenchSink();

const control = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://sink');
  let body: unknown;
  if (request.method === 'GET' && url.pathname === '/counts') body = sink.counts();
  else if (request.method === 'GET' && url.pathname === '/arrivals') {
    body = sink.arrivals(url.searchParams.get('phase') ?? '');
  }
  if (body === undefined) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
const { port } = control.address() as AddressInfo;
process.stdout.write(
  `${JSON.stringify({ msg: 'bench sink ready', smtp: sink.url, control: `http://127.0.0.1:${port}` })}\n`,
);

const stop = () => {
  control.closeAllConnections();
  control.close();
  sink.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
