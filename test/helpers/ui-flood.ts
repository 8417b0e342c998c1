/**
 * Floods a `udpkit ui` listener with the worst datagrams for it: the largest IPv4 payload, random
 * and never valid UTF-8. Flow control instead of sleeps: after each window the sender waits until
 * the UI reports having taken (or the kernel having dropped) all it was sent so far.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { RunningUi } from './ui.js';

/** The largest UDP payload over IPv4. */
export const MAX_PAYLOAD = 65_507;

/** A listener as `GET /api/listeners` reports it. */
export interface ListenerReport {
  readonly id: number;
  readonly port: number;
  readonly received: number;
  readonly kernelDropped: number | null;
}

/** Asks until `ok` holds; each answer paces the next question; bounded by `ms`. */
export async function askUntil<T>(ask: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await ask();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`still not there after ${ms} ms: ${JSON.stringify(v)}`);
  }
}

/** The UI's listener on `port`. */
export async function listenerOn(ui: RunningUi, port: number): Promise<ListenerReport> {
  const res = await ui.api('/api/listeners');
  if (res.status !== 200) throw new Error(`GET /api/listeners: ${res.status}`);
  const found = ((await res.json()) as ListenerReport[]).find((l) => l.port === port);
  if (!found) throw new Error(`no listener on port ${port}`);
  return found;
}

/**
 * Sends `count` datagrams of `size` random bytes (first byte 0xff) from 127.0.0.1 to the UI's
 * listener on `port`, `window` at a time; `between` runs after each window (checks).
 */
export async function floodUi(
  ui: RunningUi,
  port: number,
  { count, size = MAX_PAYLOAD, window = 32, between }: { count: number; size?: number; window?: number; between?: () => void },
): Promise<void> {
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const before = await listenerOn(ui, port);
  const base = before.received + (before.kernelDropped ?? 0);
  try {
    for (let sent = 0; sent < count; ) {
      const n = Math.min(window, count - sent);
      const batch = randomBytes(size * n);
      for (let i = 0; i < n; i++) {
        const d = batch.subarray(i * size, (i + 1) * size);
        d[0] = 0xff;
        await new Promise<void>((resolve, reject) => udp.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      }
      sent += n;
      await askUntil(() => listenerOn(ui, port), (l) => l.received + (l.kernelDropped ?? 0) - base >= sent);
      between?.();
    }
  } finally {
    udp.close();
  }
}
