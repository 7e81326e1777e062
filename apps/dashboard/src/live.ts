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
let connected = false;
let socket: Socket | undefined;
/** Counts refreshes, so that an older answer arriving late never overwrites a newer one. */
let refreshes = 0;
const countListeners = new Set<() => void>();
const connectionListeners = new Set<() => void>();
const itemListeners = new Set<(item: InboxItem) => void>();

function setUnread(value: number | undefined): void {
  unread = value;
  for (const listener of countListeners) listener();
}

function setConnected(value: boolean): void {
  if (connected === value) return;
  connected = value;
  for (const listener of connectionListeners) listener();
}

/** Asks the server for the count again (after marking read, or when the socket reconnects). */
export async function refreshUnread(): Promise<void> {
  refreshes += 1;
  const mine = refreshes;
  const body = await must(api.GET('/api/v1/inbox/unread-count'));
  if (mine === refreshes) setUnread(body.unread);
}

function announce(item: InboxItem): void {
  for (const listener of itemListeners) listener(item);
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
    setConnected(true);
    void refreshUnread().catch(() => undefined);
  });
  live.on('disconnect', () => setConnected(false));
  live.on('notification', (item: InboxItem) => {
    // Shown at once, then confirmed by the server (a refresh already under way may predate the item).
    setUnread((unread ?? 0) + 1);
    void refreshUnread().catch(() => undefined);
    announce(item);
  });
  return () => {
    live.disconnect();
    if (socket === live) {
      socket = undefined;
      setConnected(false);
      setUnread(undefined);
    }
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

/** Whether the live connection is up: while it is down, new items show only after a reload. */
export function useLiveConnected(): boolean {
  return useSyncExternalStore(
    (listener) => {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    () => connected,
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
