/**
 * The native backend's send queue, over a fake addon socket that behaves like the real one: send
 * returns false while the kernel is full, and waitWritable keeps one callback, the last given.
 */
import { describe, expect, it } from 'vitest';
import type { NativeUdp } from '../../src/native/binding.js';
import { NativeBackend } from '../../src/socket/native-backend.js';

/** The parts of NativeUdp the send path uses; `room` datagrams fit before EAGAIN. */
function fakeSocket() {
  const fake = {
    room: 0,
    closed: false,
    sent: [] as string[],
    writable: undefined as (() => void) | undefined,
    send(data: Uint8Array): boolean {
      if (fake.closed) throw Object.assign(new Error('closed'), { code: 'EBADF' });
      if (fake.room === 0) return false;
      fake.room--;
      fake.sent.push(Buffer.from(data).toString());
      return true;
    },
    waitWritable(callback: () => void): void {
      fake.writable = callback; // one slot, as in the addon
    },
    close(): void {
      fake.closed = true;
    },
    /** The kernel frees room for `n` datagrams and the event loop fires the writable callback. */
    drain(n: number): void {
      fake.room += n;
      const cb = fake.writable;
      fake.writable = undefined;
      cb?.();
    },
  };
  return fake;
}

function backendOver(fake: ReturnType<typeof fakeSocket>): NativeBackend {
  return new NativeBackend(fake as unknown as NativeUdp, false);
}

describe('NativeBackend.send', () => {
  it('keeps every send blocked by a full kernel, and sends them in order once there is room', () => {
    const fake = fakeSocket();
    const backend = backendOver(fake);
    const results: string[] = [];
    fake.room = 1;
    for (const text of ['a', 'b', 'c', 'd']) backend.send(Buffer.from(text), 1, '127.0.0.1', (err) => results.push(`${text}:${err === null ? 'ok' : 'err'}`));
    expect(fake.sent).toEqual(['a']);
    fake.drain(2);
    expect(fake.sent).toEqual(['a', 'b', 'c']);
    backend.send(Buffer.from('e'), 1, '127.0.0.1', (err) => results.push(`e:${err === null ? 'ok' : 'err'}`));
    fake.drain(10);
    expect(fake.sent).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(results).toEqual(['a:ok', 'b:ok', 'c:ok', 'd:ok', 'e:ok']);
  });

  it('fails the sends still waiting when it closes, so no caller waits for ever', async () => {
    const fake = fakeSocket();
    const backend = backendOver(fake);
    const errors: Array<string | undefined> = [];
    for (let i = 0; i < 3; i++) backend.send(Buffer.from('x'), 1, '127.0.0.1', (err) => errors.push((err as { code?: string } | null)?.code));
    await backend.close();
    expect(errors).toEqual(['ERR_SOCKET_DGRAM_NOT_RUNNING', 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'ERR_SOCKET_DGRAM_NOT_RUNNING']);
    backend.send(Buffer.from('late'), 1, '127.0.0.1', (err) => errors.push((err as { code?: string } | null)?.code));
    expect(errors.at(-1)).toBe('EBADF');
  });
});
