// The mail server of bench/notifications.ts: `startSmtpSink()` of @switchyard/testing (a real SMTP server,
// smtp-server) that notes, for every message, the bench's id from its subject and when it arrived.
//
// A bench message's subject is `sy-bench <phase> <seq> <sent at, ms since the epoch>`: the phase is one
// capital letter (W warm-up, A throughput, B end to end), seq numbers the requests of a phase. The
// arrival time is taken (Date.now(), the same clock as the bench's) when the sink has read the whole
// message, before it answers 250: that is "the SMTP server received it".
import { type SmtpSink, startSmtpSink } from '@switchyard/testing/smtp';

const SUBJECT = /^sy-bench ([A-Z]) (\d+) (\d+)$/;
/**
 * How long one observer waits before it is armed again. Each time, the messages the sink kept (raw bytes
 * included) are dropped: the bench only needs what it noted. Short, so a closed sink lets its process exit.
 */
const OBSERVE_MS = 1_000;

export interface PhaseCounts {
  /** Distinct seqs received. */
  received: number;
  /** Messages for a seq received before (a second send of the same notification). */
  duplicates: number;
  firstAt: number | null;
  lastAt: number | null;
}

export interface SinkCounts {
  phases: Record<string, PhaseCounts>;
  /** Messages whose subject is not a bench subject. */
  foreign: number;
  total: number;
}

/** Arrival times of one phase: `at[i]` for `seqs[i]`, and the send time the subject carried. */
export interface PhaseArrivals {
  seqs: number[];
  sentAt: number[];
  at: number[];
}

export interface BenchSink {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  counts(): SinkCounts;
  arrivals(phase: string): PhaseArrivals;
  close(): Promise<void>;
}

interface Phase {
  counts: PhaseCounts;
  bySeq: Map<number, { sentAt: number; at: number }>;
}

export async function startBenchSink(): Promise<BenchSink> {
  const sink: SmtpSink = await startSmtpSink();
  const phases = new Map<string, Phase>();
  let foreign = 0;
  let total = 0;

  const record = (subject: string, at: number) => {
    total += 1;
    const match = SUBJECT.exec(subject);
    if (!match) {
      foreign += 1;
      return;
    }
    const [, name = '?', seqText = '0', sentText = '0'] = match;
    let phase = phases.get(name);
    if (!phase) {
      phase = {
        counts: { received: 0, duplicates: 0, firstAt: null, lastAt: null },
        bySeq: new Map(),
      };
      phases.set(name, phase);
    }
    const seq = Number(seqText);
    if (phase.bySeq.has(seq)) {
      phase.counts.duplicates += 1;
      return;
    }
    phase.bySeq.set(seq, { sentAt: Number(sentText), at });
    phase.counts.received += 1;
    phase.counts.firstAt ??= at;
    phase.counts.lastAt = at;
  };

  // The recorder calls a waiter's predicate for each message as it is pushed, before smtp-server answers
  // the DATA command: a predicate that notes the message and never matches observes every arrival. When
  // the wait times out, the next observer is armed in the same turn of the event loop, before any other
  // message can arrive.
  let closed = false;
  const observed = new WeakSet<object>();
  const observe = (): void => {
    sink.messages
      .waitFor(
        (message) => {
          // An observer armed again looks at what is still recorded; those were noted already.
          if (!observed.has(message)) {
            observed.add(message);
            record(message.subject, Date.now());
          }
          return false;
        },
        { timeoutMs: OBSERVE_MS },
      )
      .catch(() => {
        if (closed) return;
        sink.messages.clear();
        observe();
      });
  };
  observe();

  return {
    url: sink.url,
    counts() {
      return {
        phases: Object.fromEntries([...phases].map(([name, phase]) => [name, { ...phase.counts }])),
        foreign,
        total,
      };
    },
    arrivals(name) {
      const result: PhaseArrivals = { seqs: [], sentAt: [], at: [] };
      for (const [seq, arrival] of phases.get(name)?.bySeq ?? []) {
        result.seqs.push(seq);
        result.sentAt.push(arrival.sentAt);
        result.at.push(arrival.at);
      }
      return result;
    },
    async close() {
      closed = true;
      await sink.close();
    },
  };
}
