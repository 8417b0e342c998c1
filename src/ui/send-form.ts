/** The page's Send form: checked once, then sent with the library's send/openSender. */
import { openSender, send } from '../transport/sender.js';
import { parseHex, validatePort } from '../validate.js';

/** A checked send request. */
export interface SendForm {
  readonly host: string;
  readonly port: number;
  readonly data: Buffer;
  readonly broadcast: boolean;
  readonly count: number;
  readonly intervalMs: number;
  readonly ack: boolean;
}

/** The outcome of one datagram. */
export interface SendResult {
  readonly ok: boolean;
  readonly bytes: number;
  readonly error?: string;
  /** With `ack`: whether the listener acknowledged it. */
  readonly confirmed?: boolean;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Checks a request body; returns the form or why it is not one. */
export function toSendForm(body: unknown): SendForm | string {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b['host'] !== 'string' || b['host'].trim() === '') return 'host is required';
  if (typeof b['payload'] !== 'string') return 'payload must be a string';
  try {
    const port = validatePort(b['port']);
    const data = b['mode'] === 'hex' ? parseHex(b['payload']) : Buffer.from(b['payload']);
    const count = b['count'] === undefined ? 1 : Number(b['count']);
    const intervalMs = b['intervalMs'] === undefined ? 0 : Number(b['intervalMs']);
    if (!Number.isInteger(count) || count < 1 || count > 1000) return 'count: 1 to 1000';
    if (!Number.isFinite(intervalMs) || intervalMs < 0 || intervalMs > 60_000) return 'intervalMs: 0 to 60000';
    return { host: b['host'].trim(), port, data, broadcast: b['broadcast'] === true, count, intervalMs, ack: b['ack'] === true };
  } catch (err) {
    return errorMessage(err);
  }
}

/** Waits `ms`, or less if `signal` aborts first (the server is stopping). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sends `form.count` datagrams; one result each, failures included (never throws). Once `signal`
 * aborts, it stops between datagrams (a count of 1000 at 60 s intervals must not outlive the UI).
 */
export async function sendForm(form: SendForm, signal?: AbortSignal): Promise<SendResult[]> {
  const results: SendResult[] = [];
  const stopped = (): boolean => signal?.aborted === true;
  // Always explicit: unticked means no SO_BROADCAST, whatever the destination (see broadcast-gate.ts).
  const target = { host: form.host, port: form.port, broadcast: form.broadcast };
  if (form.ack) {
    for (let i = 0; i < form.count && !stopped(); i++) {
      if (i > 0 && form.intervalMs > 0) await pause(form.intervalMs, signal);
      if (stopped()) break;
      try {
        await send(form.data, { ...target, ack: true, ackTimeoutMs: 5000, ...(signal ? { signal } : {}) });
        results.push({ ok: true, bytes: form.data.length, confirmed: true });
      } catch (err) {
        const unconfirmed = (err as { code?: unknown }).code === 'UDPKIT_UNCONFIRMED';
        results.push({ ok: false, bytes: 0, error: errorMessage(err), ...(unconfirmed ? { confirmed: false } : {}) });
      }
    }
    return results;
  }
  let sender;
  try {
    sender = await openSender({ ...target, ...(signal ? { signal } : {}) });
  } catch (err) {
    return [{ ok: false, bytes: 0, error: errorMessage(err) }];
  }
  try {
    for (let i = 0; i < form.count && !stopped(); i++) {
      if (i > 0 && form.intervalMs > 0) await pause(form.intervalMs, signal);
      if (stopped()) break;
      try {
        await sender.send(form.data);
        results.push({ ok: true, bytes: form.data.length });
      } catch (err) {
        results.push({ ok: false, bytes: 0, error: errorMessage(err) });
      }
    }
  } finally {
    await sender.close();
  }
  return results;
}
