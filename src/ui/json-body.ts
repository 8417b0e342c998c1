/**
 * Request bodies of the page's API: read with a size cap and parsed strictly, so an oversized
 * body is a 413 without being held and a broken one a 400, instead of an empty form that does
 * something anyway. Read from Node's request stream directly: once the web-stream view of a body
 * is opened, what is left of a refused body can no longer be drained, and the connection that
 * carried it dies instead of serving the next request.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/**
 * Largest request body accepted: 256 KiB, room for the largest datagram (65,507 bytes) written
 * as spaced hex (3 characters a byte) in a JSON form.
 */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * The body, or `undefined` once it exceeds `max` bytes: by `Content-Length` before reading, else
 * while chunks arrive. What is left of a refused body is discarded as it comes, never held.
 */
function readCapped(incoming: IncomingMessage, max: number): Promise<Buffer | undefined> {
  if (Number(incoming.headers['content-length'] ?? 0) > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: () => void): void => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) finish(() => resolve(undefined));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(() => resolve(Buffer.concat(chunks)));
    const onError = (err: Error): void => finish(() => reject(err));
    const onClose = (): void => finish(() => reject(new Error('the client went away before the body ended')));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * The request's body as a JSON object, or the response refusing it: 413 past {@link MAX_BODY_BYTES};
 * 400 for an empty body, malformed JSON, and JSON that is not an object (`[]`, `"x"`, `null`).
 * @example
 * const body = await readJsonObject(c);
 * if (body instanceof Response) return body;
 */
export async function readJsonObject(c: Context<{ Bindings: HttpBindings }>, max = MAX_BODY_BYTES): Promise<Record<string, unknown> | Response> {
  const raw = await readCapped(c.env.incoming, max);
  if (raw === undefined) return c.json({ error: `request body larger than ${max} bytes` }, 413);
  const text = raw.toString('utf8');
  if (text.trim() === '') return c.json({ error: 'the request body must be a JSON object; it is empty' }, 400);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return c.json({ error: `the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}` }, 400);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return c.json({ error: 'the request body must be a JSON object' }, 400);
  return parsed as Record<string, unknown>;
}
