import { useEffect, useSyncExternalStore } from 'react';
import { io, type Socket } from 'socket.io-client';
import { api, must } from './api/client.ts';
import { accessToken } from './session.ts';

/**
 * The signed-in user's live inbox over Socket.IO (the server's /socket.io): each new in-app notification
 * arrives as a `notification` message, which bumps the unread count and tells open pages to reload.
 */
export interface InboxItem {
  id: string;
  title?: string | null;
  body?: string | null;
}

let unread: number | undefined;
let socket: Socket | undefined;
const countListeners = new Set<() => void>();
const itemListeners = new Set<(item: InboxItem) => void>();

function setUnread(value: number): void {
  unread = value;
  for (const listener of countListeners) listener();
}

/** Asks the server for the count again (after marking read, or when the socket reconnects). */
export async function refreshUnread(): Promise<void> {
  const body = await must(api.GET('/api/v1/inbox/unread-count'));
  setUnread(body.unread);
}

export function connectInbox(): () => void {
  const live = io({
    path: '/socket.io',
    transports: ['websocket'],
    // Called on every (re)connect, so a reconnect after the token was refreshed carries the new one.
    auth: (send) => {
      void accessToken().then((token) => send({ token: token ?? '' }));
    },
  });
  socket = live;
  live.on('connect', () => {
    void refreshUnread().catch(() => undefined);
  });
  live.on('notification', (item: InboxItem) => {
    setUnread((unread ?? 0) + 1);
    for (const listener of itemListeners) listener(item);
  });
  return () => {
    live.disconnect();
    if (socket === live) socket = undefined;
    unread = undefined;
  };
}

export function useUnreadCount(): number | undefined {
  return useSyncExternalStore(
    (listener) => {
      countListeners.add(listener);
      return () => countListeners.delete(listener);
    },
    () => unread,
  );
}

/** Calls `onItem` for each notification that arrives while the component is mounted. */
export function useInboxArrivals(onItem: (item: InboxItem) => void): void {
  useEffect(() => {
    itemListeners.add(onItem);
    return () => {
      itemListeners.delete(onItem);
    };
  }, [onItem]);
}
