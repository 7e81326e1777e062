// An open-loop load generator for bench/notifications.ts: POSTs at a fixed rate whatever the answers do,
// so a slow server shows up as latency (and requests in flight), not as a lower rate. Each request is
// sent when its slot comes (seq / rate seconds after the start) on a keep-alive connection of a pool;
// its latency runs from that send to the last byte of the answer.
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PacedOptions {
  /** `http://host:port`. */
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** Keep-alive connections at most; a request that finds them all busy waits for one (counted). */
  connections: number;
  /** A request with no answer after this long is an error. */
  timeoutMs: number;
  /** The body of request `seq`, sent at `sentAt` (ms since the epoch). */
  body(seq: number, sentAt: number): string;
  /** Called at each whole second of the load (1, 2, ...), for progress. */
  onSecond?: (second: number, sent: number, inFlight: number) => void;
  /** Stops sending (already sent requests are still awaited). */
  stopped?: () => boolean;
}

export interface PacedResult {
  rate: number;
  seconds: number;
  /** Requests the schedule held, and those sent. */
  scheduled: number;
  sent: number;
  /** Epoch ms of the first and the last send. */
  firstSentAt: number;
  lastSentAt: number;
  /** Sends per second from the first send to the last. */
  achievedRate: number;
  /** How late sends went against their slot, ms. */
  lateness: { p50: number; p99: number; max: number };
  /** Most requests awaiting an answer at once, and sends that had to wait for a free connection. */
  maxInFlight: number;
  queuedForConnection: number;
  /** Answers by status code; 0 for a request that failed (connection error, timeout). */
  statuses: Record<string, number>;
  errors: string[];
  /** Latency of every 2xx answer, ms. */
  latencies: number[];
  /** Per 2xx answer: the seq, the epoch ms it was sent and answered, and the answer's request_id. */
  accepted: { seq: number; sentAt: number; answeredAt: number; requestId: string }[];
}

export async function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const statuses: Record<string, number> = {};
  const errors: string[] = [];
  const latencies: number[] = [];
  const lateness: number[] = [];
  const accepted: PacedResult['accepted'] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let queuedForConnection = 0;
  let firstSentAt = 0;
  let lastSentAt = 0;
  let firstStarted = 0;
  let lastStarted = 0;
  const pending = new Set<Promise<void>>();

  const send = (seq: number) => {
    const sentAt = Date.now();
    const started = performance.now();
    const body = options.body(seq, sentAt);
    if (seq === 0) {
      firstSentAt = sentAt;
      firstStarted = started;
    }
    lastSentAt = sentAt;
    lastStarted = started;
    // Every connection of the pool is busy: this request waits in the agent for one.
    if (inFlight >= options.connections) queuedForConnection += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const done = new Promise<void>((resolve) => {
      const finish = (status: number, text: string, error?: string) => {
        inFlight -= 1;
        const key = String(status);
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (error !== undefined) {
          if (errors.length < 20) errors.push(`#${seq}: ${error}`);
        } else if (status >= 200 && status < 300) {
          const answeredAt = Date.now();
          latencies.push(performance.now() - started);
          let requestId = '';
          try {
            const parsed = JSON.parse(text) as { request_id?: unknown };
            if (typeof parsed.request_id === 'string') requestId = parsed.request_id;
          } catch {
            // Counted below as an answer without a request id.
          }
          accepted.push({ seq, sentAt, answeredAt, requestId });
        } else if (errors.length < 20) {
          errors.push(`#${seq}: ${status} ${text.slice(0, 200)}`);
        }
        resolve();
      };
      const request = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: options.path,
          method: 'POST',
          headers: {
            ...options.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          timeout: options.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => finish(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          response.on('error', (error) => finish(0, '', error.message));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer after ${options.timeoutMs} ms`)));
      request.on('error', (error) => finish(0, '', error.message));
      request.end(body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };

  const start = performance.now() + 10;
  let next = 0;
  let second = 0;
  while (next < total && !(options.stopped?.() ?? false)) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - start) / interval) + 1);
    while (next < due) {
      lateness.push(performance.now() - (start + next * interval));
      send(next);
      next += 1;
    }
    const elapsed = Math.floor((performance.now() - start) / 1000);
    if (elapsed > second) {
      second = elapsed;
      options.onSecond?.(second, next, inFlight);
    }
    const wait = start + next * interval - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(pending);
  agent.destroy();

  const sortedLateness = lateness.sort((a, b) => a - b);
  const at = (p: number) =>
    sortedLateness[Math.min(sortedLateness.length - 1, Math.floor(p * sortedLateness.length))] ?? 0;
  return {
    rate: options.rate,
    seconds: options.seconds,
    scheduled: total,
    sent: next,
    firstSentAt,
    lastSentAt,
    achievedRate:
      next > 1 && lastStarted > firstStarted ? ((next - 1) * 1000) / (lastStarted - firstStarted) : 0,
    lateness: { p50: at(0.5), p99: at(0.99), max: sortedLateness.at(-1) ?? 0 },
    maxInFlight,
    queuedForConnection,
    statuses,
    errors,
    latencies,
    accepted,
  };
}
