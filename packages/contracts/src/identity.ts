import type { Preferences } from './users.ts';

/**
 * Roles and what each may do. Every route declares one of these permissions; this table is the only
 * place that says which role holds it. docs/permissions.md is the same matrix in prose, and a test walks
 * every registered route against it.
 */
export const ROLES = ['admin', 'operator', 'member'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  // Self-service: one's own profile, sessions, MFA.
  'auth:self',
  'auth:register',
  // Rotate the access-token signing key.
  'auth:manage',
  'api-keys:manage',
  // Holders read (users:read) or change (users:update) their own profile; users:all extends it to everyone.
  'users:read',
  'users:update',
  // Create and delete users, change roles and status.
  'users:write',
  // Holders see and change every user, not only themselves.
  'users:all',
  'preferences:read',
  'preferences:write',
  'tasks:read',
  'tasks:write',
  // Holders see and change every task, not only their own.
  'tasks:all',
  'audit:read',
  'activity:read',
  'activity:write',
  'dead-letters:read',
  'dead-letters:write',
  // Prometheus scrapes /metrics with an operator API key.
  'metrics:read',
  // Read and preview templates; write covers create, new versions, activation and deactivation.
  'templates:read',
  'templates:write',
  // Send notifications and read their status (people and machines that run campaigns).
  'notifications:send',
  'notifications:read',
  // One's own in-app inbox.
  'inbox:read',
  'inbox:write',
  // The development mail capture (embedded mode).
  'dev-mail:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const MEMBER: readonly Permission[] = [
  'auth:self',
  'users:read',
  'users:update',
  'preferences:read',
  'preferences:write',
  'tasks:read',
  'tasks:write',
  'inbox:read',
  'inbox:write',
];
const OPERATOR: readonly Permission[] = [
  ...MEMBER,
  'users:all',
  'tasks:all',
  'audit:read',
  'activity:read',
  'activity:write',
  'dead-letters:read',
  'dead-letters:write',
  'metrics:read',
  'templates:read',
  'templates:write',
  'notifications:send',
  'notifications:read',
  'dev-mail:read',
];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(PERMISSIONS),
  operator: new Set(OPERATOR),
  member: new Set(MEMBER),
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether `role` holds `permission`; an unknown role holds nothing. */
export function can(role: string, permission: string): boolean {
  return isRole(role) && ROLE_PERMISSIONS[role].has(permission as Permission);
}

export const USER_STATUSES = ['active', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** A user as other services see them; never carries the password hash. */
export interface UserAccount {
  id: string;
  name: string;
  email: string;
  role: Role;
  status: UserStatus;
}

/** What the notification pipeline needs to reach a user. */
export interface NotificationRecipient extends UserAccount {
  locale: string;
  push_token: string | null;
  preferences: Preferences;
}

/**
 * What the auth service (and the notification pipeline) need of the users service. In one process the users module implements it
 * directly; services never read each other's tables.
 */
export interface UserDirectory {
  findByEmail(email: string): Promise<(UserAccount & { passwordHash: string }) | undefined>;
  findById(id: string): Promise<UserAccount | undefined>;
  /** Throws an HttpProblem 409 when the email is taken. Emits `user.created` through the outbox. */
  create(input: { name: string; email: string; passwordHash: string; role: Role }): Promise<UserAccount>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
  countByRole(role: Role): Promise<number>;
  /** The user with their contact points and preferences; undefined when there is none. */
  findRecipient(id: string): Promise<NotificationRecipient | undefined>;
}
