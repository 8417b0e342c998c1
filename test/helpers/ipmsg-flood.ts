/**
 * A flood of IP Messenger entries from many loopback endpoints, as a LAN host forging source
 * addresses would send them: one 10-byte BR_ENTRY from each of `perSource` ports of each
 * source address (127.0.0.0/8 is all loopback on Linux, so 127.0.1.x are as good as forged).
 * Each socket stays open and counts what comes back, by IPMsg command, so a test can see every
 * datagram the target sent to the flood. Bounded: sources × perSource datagrams, one each.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { decodeIpmsgPacket, ipmsgCommandOf } from '../../src/protocol/ipmsg-packet.js';

/** The 10-byte BR_ENTRY of the issue: no nickname, user `a`, host `b`. */
export const TINY_ENTRY = Buffer.from('1:1:a:b:1:');

export interface Flood {
  /** Datagrams that came back to the flood's sockets, by IPMsg command (-1: not IPMsg). */
  readonly back: Map<number, number>;
  /** Bytes that came back. */
  readonly bytes: () => number;
  /** The largest number of datagrams of `command` any one socket got back. */
  readonly mostPerSocket: (command: number) => number;
  close(): Promise<void>;
}

/**
 * Sends the flood to `to`, source by source; after each source's batch, awaits `settled` (the
 * test's wait for the target to have read them: its join events) so that the target's receive
 * buffer never overflows on a busy machine.
 */
export async function floodEntries(
  to: { readonly address: string; readonly port: number },
  sources: readonly string[],
  perSource: number,
  settled: (sentSoFar: number) => Promise<void>,
): Promise<Flood> {
  const back = new Map<number, number>();
  const perSocket: Array<Map<number, number>> = [];
  const sockets: dgram.Socket[] = [];
  let bytes = 0;
  let sent = 0;
  for (const source of sources) {
    const batch: dgram.Socket[] = [];
    for (let i = 0; i < perSource; i++) {
      const s = dgram.createSocket('udp4');
      const mine = new Map<number, number>();
      perSocket.push(mine);
      s.on('message', (data) => {
        const p = decodeIpmsgPacket(data);
        const command = p === undefined ? -1 : ipmsgCommandOf(p.command);
        back.set(command, (back.get(command) ?? 0) + 1);
        mine.set(command, (mine.get(command) ?? 0) + 1);
        bytes += data.length;
      });
      s.bind(0, source);
      batch.push(s);
    }
    await Promise.all(batch.map((s) => once(s, 'listening')));
    sockets.push(...batch);
    await Promise.all(batch.map((s) => new Promise<void>((resolve, reject) => s.send(TINY_ENTRY, to.port, to.address, (err) => (err ? reject(err) : resolve())))));
    sent += batch.length;
    await settled(sent);
  }
  return {
    back,
    bytes: () => bytes,
    mostPerSocket: (command) => Math.max(0, ...perSocket.map((m) => m.get(command) ?? 0)),
    close: () => Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined),
  };
}
