import type { ServiceDeps, ServiceModule, UserDirectory } from '@switchyard/contracts';
import { hashPassword } from '@switchyard/kernel';
import { createAuthenticator } from './authenticate.ts';
import { userChangesSubscription } from './consumers.ts';
import { normalizeEmail, randomToken, sha256 } from './domain.ts';
import { registerAuthRoutes } from './http.ts';
import { createSealer, type Sealer } from './secrets.ts';
import { insertSetupToken } from './store.ts';
import { createKeyRing, type KeyRing } from './tokens.ts';

export interface AuthServiceOptions {
  /** The installation's secret (SWITCHYARD_SECRET_KEY); seals signing keys and TOTP seeds at rest. */
  secretKey: Buffer;
  /** Shown in authenticator apps next to the account. */
  issuer: string;
  /** How long one key signs access tokens before a new one takes over. */
  keyRotationSeconds: number;
  /** SWITCHYARD_ADMIN_EMAIL / SWITCHYARD_ADMIN_PASSWORD: the first admin, created on first start. */
  firstAdmin: { email: string; password: string } | undefined;
  /** Where to show a person the one-time setup link (the terminal, not only the log). */
  announce: (message: string) => void;
}

const SETUP_TOKEN_TTL_SECONDS = 24 * 3600;

/**
 * Auth: sign-in with lockout, access tokens (EdDSA JWT, rotating keys, JWKS) and rotating refresh
 * tokens, TOTP with recovery codes, sessions, API keys, and the first admin.
 */
export function createAuthService(options: AuthServiceOptions): ServiceModule {
  const sealer: Sealer = createSealer(options.secretKey);
  const rings = new WeakMap<object, KeyRing>();

  function keyRingFor(deps: ServiceDeps): KeyRing {
    let ring = rings.get(deps.db);
    if (!ring) {
      ring = createKeyRing({
        db: deps.db,
        sealer,
        clock: deps.clock,
        log: deps.log,
        rotateAfterSeconds: options.keyRotationSeconds,
      });
      rings.set(deps.db, ring);
    }
    return ring;
  }

  function usersOf(deps: ServiceDeps): () => UserDirectory {
    return () => {
      if (!deps.clients.users)
        throw new Error('the auth service needs the users service in the same process');
      return deps.clients.users;
    };
  }

  return {
    name: 'auth',
    migrations: [{ schema: 'auth', directory: new URL('../migrations/', import.meta.url) }],
    authenticator: (deps) =>
      createAuthenticator({
        db: deps.db,
        cache: deps.cache,
        keyRing: keyRingFor(deps),
        users: usersOf(deps),
        clock: deps.clock,
        log: deps.log,
      }),
    routes(app, deps) {
      registerAuthRoutes(app, {
        db: deps.db,
        cache: deps.cache,
        clock: deps.clock,
        ids: deps.ids,
        log: deps.log,
        keyRing: keyRingFor(deps),
        sealer,
        users: usersOf(deps),
        issuer: options.issuer,
      });
    },
    subscriptions: (deps) => [userChangesSubscription({ cache: deps.cache, clock: deps.clock })],
    async start(deps, context) {
      await keyRingFor(deps).ensureSigningKey();
      const users = usersOf(deps)();
      if ((await users.countByRole('admin')) > 0) return;
      if (options.firstAdmin) {
        const email = normalizeEmail(options.firstAdmin.email);
        const existing = await users.findByEmail(email);
        if (existing) {
          deps.log.warn(
            { email },
            'SWITCHYARD_ADMIN_EMAIL names an existing non-admin account; no admin created',
          );
          return;
        }
        await users.create({
          name: email.split('@')[0] ?? 'admin',
          email,
          passwordHash: await hashPassword(options.firstAdmin.password),
          role: 'admin',
        });
        deps.log.info({ email }, 'first admin created from SWITCHYARD_ADMIN_EMAIL');
        return;
      }
      const token = randomToken(32);
      const now = deps.clock();
      await insertSetupToken(
        deps.db,
        sha256(token),
        now,
        new Date(now.getTime() + SETUP_TOKEN_TTL_SECONDS * 1000),
      );
      options.announce(
        [
          'No admin exists yet. Create the first one within 24 hours with this one-time link:',
          `  ${context.url}/setup#token=${token}`,
          'or from a terminal:',
          `  curl -X POST ${context.url}/api/v1/auth/setup -H 'content-type: application/json' \\`,
          `    -d '{"token":"${token}","name":"Admin","email":"you@example.com","password":"<at least 12 characters>"}'`,
        ].join('\n'),
      );
    },
  };
}
