import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import type { FcmServiceAccount } from '../src/providers/fcm.ts';

/**
 * A throwaway service account: the public key a fake token endpoint trusts, and the key file's fields
 * once the token endpoint's address is known.
 */
export function testServiceAccount(projectId = 'switchyard-test') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const clientEmail = `delivery@${projectId}.iam.gserviceaccount.com`;
  return {
    projectId,
    clientEmail,
    publicKey,
    keyFile: (tokenUri: string): FcmServiceAccount => ({
      project_id: projectId,
      client_email: clientEmail,
      private_key: privateKey,
      private_key_id: 'key-1',
      token_uri: tokenUri,
    }),
  };
}

/** A settable clock in milliseconds. */
export function manualClock(startMs = Date.parse('2025-06-01T12:00:00Z')) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}

/** A loopback port with nothing listening on it: connecting is refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}
