import type { Server as HttpServer } from 'node:http';
import { can } from '@switchyard/contracts';
import {
  type Authenticate,
  type Credentials,
  credentialsOf,
  HttpProblem,
  type Identity,
  type Logger,
} from '@switchyard/kernel';
import { type ExtendedError, Server, type Socket } from 'socket.io';
import type { LiveInbox } from './live.ts';

export const SOCKET_IO_PATH = '/socket.io';

/** The room every socket of a user is in: where anything meant for all of that user's sockets goes. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}

interface ServerToClient {
  notification(item: unknown): void;
}
type InboxSocket = Socket<Record<string, never>, ServerToClient, Record<string, never>, { userId: string }>;

/** Why a handshake is refused; the client sees the message as its connect_error, with `data.detail`. */
class Refusal extends Error implements ExtendedError {
  readonly data: { detail: string };

  constructor(message: 'unauthorized' | 'forbidden' | 'unavailable', detail: string) {
    super(message);
    this.data = { detail };
  }
}

/** `auth: { token }` (an access token or an API key, "Bearer " optional), else the request's headers. */
function credentialsOfHandshake(handshake: InboxSocket['handshake']): Credentials | undefined {
  const token: unknown = handshake.auth.token;
  if (typeof token === 'string' && token.trim() !== '') {
    // The authenticator tells API keys from access tokens by their form, whatever the scheme says.
    return { scheme: 'bearer', token: token.trim().replace(/^Bearer\s+/i, '') };
  }
  return credentialsOf(handshake.headers);
}

/**
 * Socket.IO on the process's own HTTP server and port, at /socket.io: the live inbox for clients that
 * prefer it to Server-Sent Events. A socket authenticates in its handshake, as a request would, and the
 * live inbox checks those credentials again while it stays open (`LiveInbox.recheck`).
 *
 * No Socket.IO adapter (such as @socket.io/redis-adapter) is needed to run several instances: a socket
 * only ever receives its own user's items, and those already reach every instance through the cache's
 * pub/sub channel `inbox:{userId}` (Redis in scale-out), to which each instance subscribes while that user
 * has a connection to it. An adapter would carry every item across instances a second time.
 */
export function attachInboxSockets(options: {
  server: HttpServer;
  authenticate: Authenticate;
  live: LiveInbox;
  log: Logger;
}): { close(): Promise<void> } {
  const { live, log } = options;
  let closed = false;
  const io = new Server<Record<string, never>, ServerToClient, Record<string, never>, { userId: string }>(
    options.server,
    {
      path: SOCKET_IO_PATH,
      // Clients bring their own copy of the client library; the server exposes nothing unauthenticated.
      serveClient: false,
      // Clients send nothing but the handshake, whose auth payload is a token.
      maxHttpBufferSize: 64 * 1024,
      // Without this, a client arriving during shutdown would keep the HTTP server from closing.
      allowRequest: (_request, callback) => callback(closed ? 'shutting down' : null, !closed),
    },
  );

  async function identify(socket: InboxSocket): Promise<Identity> {
    const credentials = credentialsOfHandshake(socket.handshake);
    if (!credentials) {
      throw new Refusal('unauthorized', 'Send an access token or an API key as auth.token');
    }
    let identity: Identity;
    try {
      identity = await options.authenticate(credentials);
    } catch (error) {
      if (error instanceof HttpProblem) {
        throw new Refusal('unauthorized', error.problem.detail ?? error.problem.title);
      }
      throw error;
    }
    if (!can(identity.role, 'inbox:read')) {
      throw new Refusal('forbidden', `The ${identity.role} role lacks inbox:read`);
    }
    return identity;
  }

  // The socket joins the live inbox here rather than on `connection`, so that a client's `connect`
  // means its items reach it from then on.
  io.use((socket, next) => {
    identify(socket)
      .then(async (identity) => {
        const userId = identity.userId;
        const leave = await live.join({
          userId,
          transport: 'socketio',
          deliver: (message) => socket.emit('notification', JSON.parse(message) as unknown),
          // Closing the connection, not a server disconnect (which tells clients to stay away), lets
          // clients reconnect on their own, to an instance that is still running.
          end: () => socket.conn.close(),
          credentials: credentialsOfHandshake(socket.handshake),
        });
        // A socket that never connects gets no `disconnect`; the closing connection covers that case.
        socket.on('disconnect', leave);
        socket.conn.once('close', leave);
        if (socket.conn.readyState !== 'open') leave();
        socket.data.userId = userId;
        next();
      })
      .catch((error: unknown) => {
        if (error instanceof HttpProblem && error.status === 503) {
          next(new Refusal('unavailable', error.problem.detail ?? error.problem.title));
        } else if (error instanceof Refusal) {
          next(error);
        } else {
          log.error({ err: error }, 'could not accept a socket');
          next(new Refusal('unavailable', 'Try again later'));
        }
      });
  });

  io.on('connection', (socket) => {
    void socket.join(userRoom(socket.data.userId));
  });

  function stop(): void {
    if (closed) return;
    closed = true;
    // Not io.close(): that would close the HTTP server too, which is the app's to close. Closing the
    // engine's connections also ends those whose handshake is still under way.
    io.engine.close();
  }
  live.onClose(stop);

  return {
    async close() {
      stop();
    },
  };
}
