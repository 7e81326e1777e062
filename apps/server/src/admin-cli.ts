import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import type { UserDirectory } from '@switchyard/contracts';
import { HttpProblem, hashPassword, passwordPolicyViolation } from '@switchyard/kernel';

export const ADMIN_USAGE = `Usage: switchyard admin create --email <email> [--name <name>]

Creates an admin account. The password comes from SWITCHYARD_ADMIN_PASSWORD or, when that is unset,
from the first line of standard input (for example: printf '%s' "$PASSWORD" | switchyard admin create …),
so it never appears in the process list or the shell history.
`;

export class AdminUsageError extends Error {}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Runs `switchyard admin …`; returns the exit status. */
export async function adminCommand(
  args: string[],
  options: {
    users: UserDirectory;
    passwordFromEnv: string | undefined;
    stdin: NodeJS.ReadableStream;
    out: (line: string) => void;
  },
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' } },
  });
  if (positionals[0] !== 'create' || positionals.length !== 1) {
    throw new AdminUsageError('expected the subcommand create');
  }
  const email = values.email?.trim().toLowerCase() ?? '';
  if (!EMAIL.test(email)) throw new AdminUsageError('--email: expected an email address');
  const password = options.passwordFromEnv || (await text(options.stdin)).split(/\r?\n/)[0] || '';
  const violation = passwordPolicyViolation(password, { email });
  if (violation) throw new AdminUsageError(`the password ${violation}`);
  try {
    const user = await options.users.create({
      name: values.name?.trim() || (email.split('@')[0] as string),
      email,
      passwordHash: await hashPassword(password),
      role: 'admin',
    });
    options.out(`created admin ${user.email} (${user.id})`);
    return 0;
  } catch (error) {
    if (error instanceof HttpProblem && error.status === 409) {
      throw new AdminUsageError(`an account with ${email} exists already`);
    }
    throw error;
  }
}
