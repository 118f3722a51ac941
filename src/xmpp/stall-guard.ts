// A connection attempt that the server accepts but never finishes (seen under load while
// ejabberd restarts: a bot stuck in "open" for good) is cut after `ms`, so the entity's
// reconnect tries again; xmpp.js itself waits for stream features and SASL without a limit.
import { log } from '../log.js';

interface Entity {
  status: string;
  socket?: unknown;
  on(event: 'connect' | 'online' | 'disconnect' | 'offline', fn: () => void): unknown;
  disconnect(): Promise<unknown>;
}

/** Default: long enough for a loaded server, short beside a person waiting for the bot. */
export const STALL_MS = 20_000;

export function guardStalls(entity: Entity, what: string, ms = STALL_MS): void {
  let timer: NodeJS.Timeout | undefined;
  const clear = () => { clearTimeout(timer); timer = undefined; };
  entity.on('connect', () => {
    clear();
    timer = setTimeout(() => {
      timer = undefined;
      if (entity.status === 'online' || entity.status === 'offline') return;
      log.warn(`${what}: not online ${ms / 1000} s after connecting (the server stalled at "${entity.status}"); connecting again`);
      // The socket itself: a polite close would wait seconds more for a server that says nothing.
      const socket = entity.socket as { destroy?: () => void } | undefined;
      if (socket?.destroy) socket.destroy();
      else entity.disconnect().catch(() => {});
    }, ms).unref();
  });
  for (const e of ['online', 'disconnect', 'offline'] as const) entity.on(e, clear);
}
