import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall, bearer, call, signIn, testConfig, userWithRole } from './helpers.ts';
import {
  type ClientOptions,
  connected,
  connectSocket,
  type InboxItem,
  nextSocketItem,
  nextStreamItem,
  openInboxStream,
  sendInApp,
  socketTo,
} from './inbox-clients.ts';

// The notifications service's dispatch consumer group: it writes inbox rows.
const DISPATCH_GROUP = 'notification-dispatch';

/** `websocket_connections_total` by transport, from /metrics. */
async function liveConnections(base: string): Promise<{ sse: number; socketio: number }> {
  const metrics = await adminCall<string>(base, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  const value = (transport: string) => {
    const match = new RegExp(`^websocket_connections_total\\{transport="${transport}"\\} (\\d+)$`, 'm').exec(
      metrics.body,
    );
    assert.ok(match, `no websocket_connections_total series for ${transport}`);
    return Number(match[1]);
  };
  return { sse: value('sse'), socketio: value('socketio') };
}

/**
 * Re-scrapes until the gauge reads `expected`: the server learns of a client hanging up by an event the
 * test cannot await.
 */
async function connectionsReach(
  base: string,
  expected: { sse: number; socketio: number },
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await liveConnections(base);
    if (current.sse === expected.sse && current.socketio === expected.socketio) return;
    if (Date.now() > deadline) {
      assert.fail(`connections stayed at ${JSON.stringify(current)}, not ${JSON.stringify(expected)}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('in-app inbox', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  let base: string;

  before(async () => {
    database = await createTestDatabase('inbox');
    server = await startSwitchyard(
      testConfig(database.url, { SWITCHYARD_LIVE_RECHECK_SECONDS: '1' }),
      silentLogger(),
    );
    base = server.url;
  });

  after(async () => {
    await server?.close();
    await database?.drop();
  });

  async function inbox(token: string, query = '') {
    return call<InboxItem[]>(base, 'GET', `/api/v1/inbox${query}`, { headers: bearer(token) });
  }

  async function unread(token: string): Promise<number> {
    const response = await call<{ unread: number }>(base, 'GET', '/api/v1/inbox/unread-count', {
      headers: bearer(token),
    });
    assert.equal(response.status, 200);
    return response.body.unread;
  }

  async function mark(token: string, path: string) {
    return call<{ marked?: number }>(base, 'POST', `/api/v1/inbox/${path}`, { headers: bearer(token) });
  }

  it("keeps a member's in-app notifications: unread count, read, unread, read-all, archive", async () => {
    const member = await userWithRole(base, 'member');
    const other = await userWithRole(base, 'member');
    const token = member.access_token;
    const requestId = await sendInApp(base, member.user.id, 'Hello');
    await server.drain(DISPATCH_GROUP);

    const listed = await inbox(token);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.length, 1);
    const item = listed.body[0];
    assert.ok(item);
    assert.equal(item.request_id, requestId);
    assert.equal(item.title, 'Hello');
    assert.equal(item.body, 'Hello text');
    assert.equal(item.read_at, null);
    assert.deepEqual((await inbox(other.access_token)).body, [], "not in another user's inbox");
    assert.equal(await unread(token), 1);

    assert.equal((await mark(token, `${item.id}/read`)).status, 204);
    assert.equal(await unread(token), 0);
    assert.ok((await inbox(token)).body[0]?.read_at);
    assert.equal((await mark(token, `${item.id}/unread`)).status, 204);
    assert.equal(await unread(token), 1);
    assert.deepEqual(
      (await inbox(token, '?unread=true')).body.map((entry) => entry.id),
      [item.id],
    );
    const all = await mark(token, 'read-all');
    assert.equal(all.status, 200);
    assert.equal(all.body.marked, 1);
    assert.equal(await unread(token), 0);

    for (const change of ['read', 'unread', 'archive']) {
      const foreign = await mark(other.access_token, `${item.id}/${change}`);
      assert.equal(foreign.status, 404, `another user cannot ${change} the item`);
    }
    assert.equal((await mark(token, `${item.id}/archive`)).status, 204);
    assert.deepEqual((await inbox(token)).body, [], 'archived items leave the default list');
    const archived = await inbox(token, '?archived=true');
    assert.deepEqual(
      archived.body.map((entry) => entry.id),
      [item.id],
    );
    assert.ok(archived.body[0]?.archived_at);
  });

  it('pages newest first with X-Next-Cursor and names a bad cursor', async () => {
    const member = await userWithRole(base, 'member');
    const token = member.access_token;
    for (const subject of ['first', 'second', 'third']) await sendInApp(base, member.user.id, subject);
    await server.drain(DISPATCH_GROUP);

    const first = await inbox(token, '?limit=2');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.map((item) => item.title),
      ['third', 'second'],
    );
    const cursor = first.headers.get('x-next-cursor');
    assert.ok(cursor, 'a full page says where the next one starts');
    const second = await inbox(token, `?limit=2&cursor=${encodeURIComponent(cursor)}`);
    assert.deepEqual(
      second.body.map((item) => item.title),
      ['first'],
    );
    assert.equal(second.headers.get('x-next-cursor'), null, 'the last page has no cursor');

    const bad = await call<{ errors: { field: string; in: string }[] }>(
      base,
      'GET',
      '/api/v1/inbox?cursor=not-a-cursor',
      { headers: bearer(token) },
    );
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors[0], {
      field: 'cursor',
      in: 'query',
      reason: 'is not a cursor this API gave out',
    });
  });

  it('pushes new items over Server-Sent Events', async () => {
    const member = await userWithRole(base, 'member');
    const unauthenticated = await call(base, 'GET', '/api/v1/inbox/stream');
    assert.equal(unauthenticated.status, 401);
    const stream = await openInboxStream(base, member.access_token);
    try {
      const requestId = await sendInApp(base, member.user.id, 'Live over SSE');
      const item = await nextStreamItem(stream);
      assert.equal(item.request_id, requestId);
      assert.equal(item.title, 'Live over SSE');
      assert.equal(item.read_at, null);
      const stored = (await inbox(member.access_token)).body[0];
      assert.deepEqual(item, stored, 'the pushed item is the one the list returns');
    } finally {
      stream.close();
    }
  });

  it('is not held by quiet hours: the inbox waits silently, so the item arrives at once', async () => {
    const member = await userWithRole(base, 'member');
    const path = `/api/v1/users/${member.user.id}/preferences`;
    const headers = bearer(member.access_token);
    const preferences = await call<Record<string, unknown>>(base, 'GET', path, { headers });
    assert.equal(preferences.status, 200);
    const hhmm = (at: number) => new Date(at).toISOString().slice(11, 16);
    const quiet = await call(base, 'PUT', path, {
      headers,
      json: {
        ...preferences.body,
        quiet_hours: {
          start: hhmm(Date.now() - 3600_000),
          end: hhmm(Date.now() + 3600_000),
          time_zone: 'UTC',
        },
      },
    });
    assert.equal(quiet.status, 200, JSON.stringify(quiet.body));

    const stream = await openInboxStream(base, member.access_token);
    try {
      const requestId = await sendInApp(base, member.user.id, 'During quiet hours');
      assert.equal((await nextStreamItem(stream)).request_id, requestId);
      const status = await adminCall<{ deliveries: { status: string }[] }>(
        base,
        'GET',
        `/api/v1/notifications/${requestId}`,
      );
      assert.equal(status.body.deliveries[0]?.status, 'delivered');
    } finally {
      stream.close();
    }
  });

  it('pushes new items over Socket.IO to every socket of the user, and only to them', async () => {
    const member = await userWithRole(base, 'member');
    const other = await userWithRole(base, 'member');
    // The token in the handshake's auth; long-polling first, then the upgrade to WebSocket.
    const byAuth = await connectSocket(base, { auth: { token: member.access_token } });
    // The Authorization header, straight over WebSocket.
    const byHeader = await connectSocket(base, {
      transports: ['websocket'],
      extraHeaders: bearer(member.access_token),
    });
    const bystander = await connectSocket(base, { auth: { token: other.access_token } });
    const bystanderHeard: string[] = [];
    bystander.on('notification', (item: InboxItem) => {
      bystanderHeard.push(item.title ?? '');
    });
    try {
      const received = Promise.all([nextSocketItem(byAuth), nextSocketItem(byHeader)]);
      const requestId = await sendInApp(base, member.user.id, 'Live over Socket.IO');
      const [first, second] = await received;
      assert.equal(first.request_id, requestId);
      assert.equal(first.title, 'Live over Socket.IO');
      assert.deepEqual(second, first);
      const stored = (await inbox(member.access_token)).body[0];
      assert.deepEqual(first, stored, 'the same JSON as the list and the stream');

      // Had the member's item gone astray it would have reached the bystander first: one connection,
      // in order.
      const own = nextSocketItem(bystander);
      await sendInApp(base, other.user.id, 'For the bystander');
      await own;
      assert.deepEqual(bystanderHeard, ['For the bystander']);
    } finally {
      for (const socket of [byAuth, byHeader, bystander]) socket.disconnect();
    }
  });

  it('accepts an API key in the handshake, as its creator', async () => {
    const key = await adminCall<{ key: string }>(base, 'POST', '/api/v1/api-keys', {
      json: { name: 'inbox robot', role: 'operator' },
    });
    assert.equal(key.status, 201);
    const admin = await signIn(base);
    const socket = await connectSocket(base, { auth: { token: key.body.key } });
    try {
      const received = nextSocketItem(socket);
      const requestId = await sendInApp(base, admin.user.id, 'For the key holder');
      assert.equal((await received).request_id, requestId);
    } finally {
      socket.disconnect();
    }
  });

  it('refuses a socket without valid credentials with connect_error "unauthorized"', async () => {
    for (const options of [
      { auth: { token: 'not-a-token' } },
      { auth: { token: 'syk_not-a-known-key' } },
      { extraHeaders: { authorization: 'Bearer not-a-token' } },
      {},
    ] satisfies ClientOptions[]) {
      const socket = socketTo(base, options);
      try {
        await assert.rejects(connected(socket), (error: Error) => {
          assert.equal(error.message, 'unauthorized');
          return true;
        });
        assert.equal(socket.connected, false);
      } finally {
        socket.disconnect();
      }
    }
  });

  it("closes a socket whose session ends (sign-out) and refuses its token again; the user's other session keeps its socket", async () => {
    const member = await userWithRole(base, 'member');
    const otherSession = await signIn(base, { email: member.user.email, password: member.password });
    const staying = await connectSocket(base, { auth: { token: otherSession.access_token } });
    const leaving = await connectSocket(base, { auth: { token: member.access_token } });
    try {
      const closed = new Promise<string>((resolve) => leaving.once('disconnect', resolve));
      const loggedOut = await call(base, 'POST', '/api/v1/auth/logout', {
        headers: bearer(member.access_token),
      });
      assert.equal(loggedOut.status, 204);
      // The re-check runs every SWITCHYARD_LIVE_RECHECK_SECONDS (1 s here). The server closes the
      // transport rather than sending a disconnect, so a client with fresh credentials carries on.
      assert.equal(await closed, 'transport close');
      leaving.connect();
      await assert.rejects(connected(leaving), (error: Error) => error.message === 'unauthorized');

      // The other session's socket, connected first, went through the same re-check and stays.
      const arrives = nextSocketItem(staying);
      await sendInApp(base, member.user.id, 'still here');
      assert.equal((await arrives).title, 'still here');
      assert.equal(staying.connected, true);
    } finally {
      leaving.disconnect();
      staying.disconnect();
    }
  });

  it("ends a Server-Sent Events stream whose session ends (sign-out); the user's other session keeps its stream", async () => {
    const member = await userWithRole(base, 'member');
    const otherSession = await signIn(base, { email: member.user.email, password: member.password });
    const staying = await openInboxStream(base, otherSession.access_token);
    const leaving = await openInboxStream(base, member.access_token);
    try {
      const loggedOut = await call(base, 'POST', '/api/v1/auth/logout', {
        headers: bearer(member.access_token),
      });
      assert.equal(loggedOut.status, 204);
      // The re-check (every second here) ends the stream: the reader sees its end, no item.
      assert.equal(await leaving.next((frame) => frame.startsWith('event: notification')), undefined);
      const again = await call(base, 'GET', '/api/v1/inbox/stream', { headers: bearer(member.access_token) });
      assert.equal(again.status, 401);

      const requestId = await sendInApp(base, member.user.id, 'still streaming');
      assert.equal((await nextStreamItem(staying)).request_id, requestId);
    } finally {
      leaving.close();
      staying.close();
    }
  });

  it('counts open connections by transport in websocket_connections_total', async () => {
    const member = await userWithRole(base, 'member');
    await connectionsReach(base, { sse: 0, socketio: 0 });
    const socket = await connectSocket(base, { auth: { token: member.access_token } });
    const stream = await openInboxStream(base, member.access_token);
    const second = await openInboxStream(base, member.access_token);
    // Counted once the connection is subscribed, which is before the client hears it is connected.
    assert.deepEqual(await liveConnections(base), { sse: 2, socketio: 1 });

    // Connections of one user share one subscription: the last to leave must not take it from the others.
    stream.close();
    await connectionsReach(base, { sse: 1, socketio: 1 });
    const received = nextSocketItem(socket);
    const requestId = await sendInApp(base, member.user.id, 'Still subscribed');
    assert.equal((await nextStreamItem(second)).request_id, requestId);
    assert.equal((await received).request_id, requestId);

    socket.disconnect();
    second.close();
    await connectionsReach(base, { sse: 0, socketio: 0 });
  });

  it('ends open streams and sockets when the server closes', async () => {
    const member = await userWithRole(base, 'member');
    const socket = await connectSocket(base, { auth: { token: member.access_token } });
    const stream = await openInboxStream(base, member.access_token);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await server.close();
    assert.equal(await stream.next(() => false), undefined, 'the stream ends');
    // Not "io server disconnect", after which a client would stay away rather than find another instance.
    assert.equal(await disconnected, 'transport close');
  });
});
