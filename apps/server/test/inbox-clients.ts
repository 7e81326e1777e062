// Clients of the live inbox (SSE and Socket.IO) and the in-app send, for the tests that watch items arrive.
import assert from 'node:assert/strict';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { adminCall, bearer } from './helpers.ts';

export interface InboxItem {
  id: string;
  request_id: string | null;
  title: string | null;
  body: string;
  category: string | null;
  read_at: string | null;
  archived_at: string | null;
}

/** An open `GET /api/v1/inbox/stream`, read frame by frame. */
export interface InboxStream {
  /** The next frame whose text satisfies `match`; undefined once the server ends the stream. */
  next(match: (frame: string) => boolean): Promise<string | undefined>;
  close(): void;
}

/** Opens the stream and reads up to `: connected`, which the server sends once items reach the stream. */
export async function openInboxStream(base: string, token: string): Promise<InboxStream> {
  const controller = new AbortController();
  const response = await fetch(`${base}/api/v1/inbox/stream`, {
    headers: bearer(token),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(response.body);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const stream: InboxStream = {
    async next(match) {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (match(frame)) return frame;
          continue;
        }
        const chunk = await reader.read().catch((error: unknown) => {
          if (controller.signal.aborted) return { done: true as const, value: undefined };
          throw error;
        });
        if (chunk.done) return undefined;
        buffer += chunk.value;
      }
    },
    close() {
      controller.abort();
    },
  };
  assert.equal(await stream.next((frame) => frame === ': connected'), ': connected');
  return stream;
}

/** The item of the next `event: notification` frame. */
export async function nextStreamItem(stream: InboxStream): Promise<InboxItem> {
  const frame = await stream.next((text) => text.startsWith('event: notification\n'));
  assert.ok(frame, 'the stream ended before a notification');
  const data = frame.split('\n').find((line) => line.startsWith('data: '));
  assert.ok(data, frame);
  return JSON.parse(data.slice('data: '.length)) as InboxItem;
}

export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** A Socket.IO client of its own (no shared manager), which does not reconnect behind the test's back. */
export function socketTo(base: string, options: ClientOptions): Socket {
  return io(base, { path: '/socket.io', forceNew: true, reconnection: false, ...options });
}

/** Resolves once connected; rejects with the connect_error. */
export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

export async function connectSocket(base: string, options: ClientOptions): Promise<Socket> {
  const socket = socketTo(base, options);
  await connected(socket);
  return socket;
}

export function nextSocketItem(socket: Socket): Promise<InboxItem> {
  return new Promise((resolve) => socket.once('notification', resolve));
}

/** Sends an in-app notification to `userId` as the admin; returns its request id. */
export async function sendInApp(base: string, userId: string, subject: string): Promise<string> {
  const accepted = await adminCall<{ request_id: string }>(base, 'POST', '/api/v1/notifications', {
    json: {
      recipients: [{ user_id: userId }],
      channels: ['in_app'],
      content: { subject, text: `${subject} text` },
    },
  });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  return accepted.body.request_id;
}
