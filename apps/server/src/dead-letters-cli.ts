import { parseArgs } from 'node:util';
import {
  type DeadLetterFilter,
  discardDeadLetter,
  listDeadLetters,
  NotReplayableError,
  replayableIds,
  replayDeadLetter,
} from '@switchyard/bus';
import { type Pool, withTransaction } from '@switchyard/kernel';

export const DEAD_LETTERS_USAGE = `Usage: switchyard dead-letters <list|replay|discard> [options]

  list [--topic T] [--group G] [--type E] [--from ISO] [--to ISO] [--all] [--limit N] [--json]
  replay <id>                    send one dead letter's event again (same event id)
  replay --topic T|--group G|--type E [--from ISO] [--to ISO]
                                 replay every waiting dead letter that matches
  discard <id>                   delete a dead letter
`;

export class UsageError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function date(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()))
    throw new UsageError(`--${name}: expected an ISO date-time, got ${JSON.stringify(value)}`);
  return parsed;
}

/** Runs `switchyard dead-letters …`; writes to `out`, returns the exit status. */
export async function deadLettersCommand(
  args: string[],
  pool: Pool,
  out: (line: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      topic: { type: 'string' },
      group: { type: 'string' },
      type: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      all: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [action, id] = positionals;
  const from = date('from', values.from);
  const to = date('to', values.to);
  const filter: DeadLetterFilter = {
    ...(values.topic ? { topic: values.topic } : {}),
    ...(values.group ? { group: values.group } : {}),
    ...(values.type ? { type: values.type } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    includeReplayed: values.all ?? false,
  };
  if (id !== undefined && !UUID.test(id))
    throw new UsageError(`expected a dead letter id (a UUID), got ${JSON.stringify(id)}`);

  switch (action) {
    case 'list': {
      const limit = values.limit ? Number(values.limit) : 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError('--limit: expected 1 to 1000');
      const letters = await listDeadLetters(pool, filter, limit);
      if (values.json) {
        out(JSON.stringify(letters, null, 2));
      } else if (letters.length === 0) {
        out('no dead letters');
      } else {
        for (const letter of letters) {
          out(
            [
              letter.id,
              letter.consumer_group,
              letter.topic,
              letter.event_type ?? '-',
              letter.reason,
              `attempts=${letter.attempts}`,
              letter.last_failed_at,
              letter.error.split('\n')[0]?.slice(0, 80),
            ].join('  '),
          );
        }
      }
      return 0;
    }
    case 'replay': {
      if (id) {
        try {
          const result = await withTransaction(pool, (tx) => replayDeadLetter(tx, id));
          if (result === 'missing') {
            out(`no dead letter ${id}`);
            return 1;
          }
        } catch (error) {
          if (error instanceof NotReplayableError) {
            out(error.message);
            return 1;
          }
          throw error;
        }
        out(`replayed ${id}`);
        return 0;
      }
      if (!filter.topic && !filter.group && !filter.type) {
        throw new UsageError('replay needs an id, or at least one of --topic, --group, --type');
      }
      const ids = await replayableIds(pool, filter);
      await withTransaction(pool, async (tx) => {
        for (const each of ids) await replayDeadLetter(tx, each);
      });
      out(`replayed ${ids.length}`);
      return 0;
    }
    case 'discard': {
      if (!id) throw new UsageError('discard needs a dead letter id');
      if (!(await discardDeadLetter(pool, id))) {
        out(`no dead letter ${id}`);
        return 1;
      }
      out(`discarded ${id}`);
      return 0;
    }
    default:
      throw new UsageError(action ? `unknown action ${JSON.stringify(action)}` : 'missing action');
  }
}
