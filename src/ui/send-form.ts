/** The page's Send form: checked once, then sent with the library's send/openSender. */
import { openSender, send } from '../socket/sender.js';
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

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `form.count` datagrams; one result each, failures included (never throws). */
export async function sendForm(form: SendForm): Promise<SendResult[]> {
  const results: SendResult[] = [];
  const target = { host: form.host, port: form.port, ...(form.broadcast ? { broadcast: true } : {}) };
  if (form.ack) {
    for (let i = 0; i < form.count; i++) {
      if (i > 0 && form.intervalMs > 0) await pause(form.intervalMs);
      try {
        await send(form.data, { ...target, ack: true, ackTimeoutMs: 5000 });
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
    sender = await openSender(target);
  } catch (err) {
    return [{ ok: false, bytes: 0, error: errorMessage(err) }];
  }
  try {
    for (let i = 0; i < form.count; i++) {
      if (i > 0 && form.intervalMs > 0) await pause(form.intervalMs);
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
