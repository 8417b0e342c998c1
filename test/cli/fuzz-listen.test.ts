/**
 * Fuzzing `udpkit listen` over loopback: a few thousand generated datagrams per mode (text, JSON,
 * --key, --echo), random bytes and frame-like ones of every udpkit frame type, valid, truncated
 * or mutated. Whatever they are, each is shown (one line on stdout) or counted (refused, with a
 * reason, or dropped by the kernel): shown + refused + kernel dropped = sent, exactly.
 */
import dgram from 'node:dgram';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/protocol/seal-key.js';
import { Sealer } from '../../src/protocol/seal.js';
import { startListener, killedAfterEach } from '../helpers/cli.js';
import { bytesOf, fuzzDatagram } from '../helpers/fuzz-datagrams.js';
import { parseSummary, shownLines } from '../helpers/listen-accounting.js';

const { track } = killedAfterEach();

const SECRET = 'fuzz secret for the listener';
const COUNT = 3000;

/** Two sending sockets, on 127.0.0.1 and 127.0.0.2; replies (echoes, ACKs) are read and ignored. */
async function openSockets(): Promise<dgram.Socket[]> {
  return Promise.all(
    ['127.0.0.1', '127.0.0.2'].map(async (address) => {
      const s = dgram.createSocket('udp4');
      s.on('message', () => undefined);
      await new Promise<void>((r) => s.bind(0, address, r));
      return s;
    }),
  );
}

const MODES: readonly { readonly name: string; readonly args: readonly string[] }[] = [
  { name: 'text', args: [] },
  { name: 'JSON', args: ['--json'] },
  { name: 'keyed (--key)', args: ['--key', SECRET] },
  { name: 'echo (--echo)', args: ['--echo'] },
];

describe('listen under fuzzed datagrams', () => {
  for (const mode of MODES) {
    it(`${mode.name}: ${COUNT} datagrams, each shown or counted`, async () => {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const datagrams = fc.sample(fuzzDatagram, { numRuns: COUNT, seed });
      const l = await startListener([...mode.args, '--no-stop-word', '--linger', '0'], { timeoutMs: 60_000 });
      track(l);
      const sealers = { right: new Sealer(deriveKey(SECRET)), wrong: new Sealer(deriveKey('another secret')) };
      const sockets = await openSockets();
      let sent = 0;
      const send = async (socket: dgram.Socket, bytes: Buffer): Promise<void> => {
        await new Promise<void>((r, j) => socket.send(bytes, l.port, '127.0.0.1', (e) => (e ? j(e) : r())));
        sent++;
      };
      try {
        for (const d of datagrams) await send(sockets[d.socket]!, bytesOf(d, sealers, Date.now(), l.port));
        // So that most of it is handled while the listener takes datagrams: a last one, plain
        // (sealed when keyed), sent again until it shows (the kernel may drop it, as any other).
        const marker = `fuzz done ${seed}`;
        const markerBytes = (): Buffer => (mode.args.includes('--key') ? sealers.right.seal(Buffer.from(marker), Date.now(), { port: l.port }) : Buffer.from(marker));
        for (let i = 0; i < 40 && !l.stdout.includes(marker); i++) {
          await send(sockets[0]!, markerBytes());
          for (let t = 0; t < 50 && !l.stdout.includes(marker); t++) await new Promise((r) => setTimeout(r, 10));
        }
        expect(l.stdout).toContain(marker);
      } finally {
        for (const s of sockets) s.close();
      }
      // What it has not read yet is read and counted when it stops.
      l.child.kill('SIGTERM');
      const done = await l.done;
      const context = `seed ${seed}: ${done.stderr}`;
      expect(done.code, context).toBe(0);
      const s = parseSummary(done.stderr);
      const out = done.stdout.split('\n').slice(0, -1);
      if (mode.args.includes('--json')) {
        for (const line of out) expect(JSON.parse(line), context).toMatchObject({ from: { address: expect.stringMatching(/^127\.0\.0\.[12]$/) } });
      } else {
        expect(shownLines(done.stdout)).toHaveLength(out.length);
      }
      console.log(`fuzz ${mode.name}, seed ${seed}: ${done.stderr.split('\n').at(-2)}`);
      expect(s.received, context).toBe(out.length);
      expect(s.received + (s.refused ?? 0) + s.kernelDropped, context).toBe(sent);
      // Every datagram shown was echoed, held back by a limit, or not echoed for a reason.
      if (mode.args.includes('--echo')) expect(s.echo && s.echo.echoed + s.echo.limited + s.echo.notEchoed, context).toBe(s.received);
      else expect(s.echo, context).toBeUndefined();
    }, 90_000);
  }
});
