import type { Preferences, Role, UserAccount, UserStatus } from '@switchyard/contracts';
import type { Queryable } from '@switchyard/kernel';
import { type ListCursor, likePrefix, type UserRecord } from './domain.ts';

interface UserRow {
  id: string;
  name: string;
  email: string;
  role: Role;
  status: UserStatus;
  locale: string;
  push_token: string | null;
  email_preference: boolean;
  push_preference: boolean;
  sms_preference: boolean;
  in_app_preference: boolean;
  webhook_preference: boolean;
  category_opt_outs: string[];
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  quiet_hours_time_zone: string | null;
  created_at: Date;
  updated_at: Date;
}

// The password column is never among these: only findByEmail reads it, by name.
const COLUMNS = `id, name, email, role, status, locale, push_token, email_preference, push_preference,
  sms_preference, in_app_preference, webhook_preference, category_opt_outs, quiet_hours_start,
  quiet_hours_end, quiet_hours_time_zone, created_at, updated_at`;

function toRecord(row: UserRow): UserRecord {
  const quietHours =
    row.quiet_hours_start !== null && row.quiet_hours_end !== null && row.quiet_hours_time_zone !== null
      ? { start: row.quiet_hours_start, end: row.quiet_hours_end, time_zone: row.quiet_hours_time_zone }
      : null;
  return {
    user: {
      id: row.id,
      name: row.name,
      email: row.email,
      role: row.role,
      status: row.status,
      locale: row.locale,
      push_token: row.push_token,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    },
    preferences: {
      email: row.email_preference,
      push: row.push_preference,
      sms: row.sms_preference,
      in_app: row.in_app_preference,
      webhook: row.webhook_preference,
      category_opt_outs: row.category_opt_outs,
      quiet_hours: quietHours,
      locale: row.locale,
    },
  };
}

/** Values of every column but id, password and created_at, in the order `UPDATE` below numbers them. */
function mutableValues({ user, preferences }: UserRecord): unknown[] {
  const quiet: Preferences['quiet_hours'] = preferences.quiet_hours;
  return [
    user.name,
    user.email,
    user.role,
    user.status,
    user.locale,
    user.push_token,
    preferences.email,
    preferences.push,
    preferences.sms,
    preferences.in_app,
    preferences.webhook,
    preferences.category_opt_outs,
    quiet?.start ?? null,
    quiet?.end ?? null,
    quiet?.time_zone ?? null,
    user.updated_at,
  ];
}

/** PostgreSQL's unique_violation on the email index. */
export function isEmailTaken(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === '23505' &&
    (error as { constraint?: unknown }).constraint === 'users_email_lower'
  );
}

/** Number of the first parameter free for a statement `insertUserWithEvent` embeds. */
export const FIRST_EVENT_PARAMETER = 19;

/**
 * Inserts the user and runs `event` (a statement numbering its parameters from $19: the outbox insert of
 * the user's event) in the same statement, so both commit together in one round trip. A taken email
 * fails the whole statement, event included.
 */
export async function insertUserWithEvent(
  db: Queryable,
  record: UserRecord,
  passwordHash: string,
  event: { sql: string; values: unknown[] },
): Promise<void> {
  await db.query(
    `WITH inserted AS (
       INSERT INTO users.users (name, email, role, status, locale, push_token, email_preference,
         push_preference, sms_preference, in_app_preference, webhook_preference, category_opt_outs,
         quiet_hours_start, quiet_hours_end, quiet_hours_time_zone, updated_at, id, password, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $16)
       RETURNING 1),
     event AS (${event.sql})
     SELECT 1`,
    [...mutableValues(record), record.user.id, passwordHash, ...event.values],
  );
}

export async function findUser(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<UserRecord | null> {
  const result = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users.users WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function findAccountByEmail(
  db: Queryable,
  email: string,
): Promise<(UserAccount & { passwordHash: string }) | null> {
  const result = await db.query<UserAccount & { password: string }>(
    'SELECT id, name, email, role, status, password FROM users.users WHERE lower(email) = lower($1)',
    [email],
  );
  const row = result.rows[0];
  if (!row) return null;
  const { password, ...account } = row;
  return { ...account, passwordHash: password };
}

export async function updateUser(db: Queryable, record: UserRecord): Promise<void> {
  await db.query(
    `UPDATE users.users SET name = $1, email = $2, role = $3, status = $4, locale = $5, push_token = $6,
       email_preference = $7, push_preference = $8, sms_preference = $9, in_app_preference = $10,
       webhook_preference = $11, category_opt_outs = $12, quiet_hours_start = $13, quiet_hours_end = $14,
       quiet_hours_time_zone = $15, updated_at = $16
     WHERE id = $17`,
    [...mutableValues(record), record.user.id],
  );
}

/** Replaces the password hash; true when the user exists. */
export async function updatePasswordHash(db: Queryable, id: string, passwordHash: string): Promise<boolean> {
  const result = await db.query('UPDATE users.users SET password = $2 WHERE id = $1', [id, passwordHash]);
  return result.rowCount === 1;
}

export async function deleteUser(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM users.users WHERE id = $1', [id]);
}

/**
 * Serialises the writes that can take an admin away (role or status changes, deletes) until the end of
 * the transaction. Taken before any row lock, so it cannot deadlock with them; the count that follows then
 * sees every earlier such change committed. Without it, two admins demoting each other at once would each
 * count two admins and leave none.
 */
export async function lockAdminChanges(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('switchyard:users:admin-changes'))");
}

export async function countActive(db: Queryable, role: Role): Promise<number> {
  const result = await db.query<{ count: string }>(
    "SELECT count(*) AS count FROM users.users WHERE role = $1 AND status = 'active'",
    [role],
  );
  return Number(result.rows[0]?.count ?? 0);
}

export interface ListQuery {
  /** Case-insensitive prefix of the name or of the email. */
  q?: string;
  role?: Role;
  status?: UserStatus;
  after?: ListCursor;
  limit: number;
}

/** One page, newest first, in keyset order. */
export async function listUsers(db: Queryable, query: ListQuery): Promise<UserRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (query.q !== undefined) {
    // Both sides lower-cased by PostgreSQL, matching the expression indexes exactly.
    const pattern = bind(likePrefix(query.q));
    where.push(`(lower(email) LIKE lower(${pattern}) OR lower(name) LIKE lower(${pattern}))`);
  }
  if (query.role) where.push(`role = ${bind(query.role)}`);
  if (query.status) where.push(`status = ${bind(query.status)}`);
  if (query.after) {
    where.push(`(created_at, id) < (${bind(new Date(query.after.at))}, ${bind(query.after.id)})`);
  }
  const result = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users.users
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC
      LIMIT ${bind(query.limit)}`,
    values,
  );
  return result.rows.map(toRecord);
}
