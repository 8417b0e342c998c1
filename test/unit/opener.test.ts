import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opener, type OpenResult } from '../../src/protocol/opener.js';
import { Sealer } from '../../src/protocol/seal.js';
import { thrown } from '../helpers/thrown.js';

// No scrypt here: any 32 bytes make a key (seal.test.ts covers deriveKey).
const key = Buffer.alloc(32, 0x11);
const otherKey = Buffer.alloc(32, 0x22);
const NOW = 1_700_000_000_000;
const PORT = 5000;

function reasonOf(result: OpenResult): string {
  return result.ok ? 'ok' : result.reason;
}

/** Seals `count` datagrams "0", "1"... from one sender. */
function sealMany(count: number, sealer = new Sealer(key), now = NOW): Buffer[] {
  return Array.from({ length: count }, (_, i) => sealer.seal(Buffer.from(String(i)), now, { port: PORT }));
}

/** The reason a single changed byte at `position` must give. */
function flipReason(position: number): string {
  if (position < 2) return 'plain';
  if (position === 2) return 'version';
  if (position === 3) return 'malformed';
  return 'forged';
}

describe('Opener: what is refused, and why', () => {
  it('refuses plain datagrams, including a stranger\'s "bye"', () => {
    const opener = new Opener(key);
    for (const text of ['bye', '', 'U', 'hello world']) expect(reasonOf(opener.open(Buffer.from(text), NOW, PORT))).toBe('plain');
  });

  it('calls udpkit magic without a whole sealed frame malformed, and an unknown version "version"', () => {
    const opener = new Opener(key);
    expect(reasonOf(opener.open(Buffer.from([0x55, 0x4b]), NOW, PORT))).toBe('malformed');
    expect(reasonOf(opener.open(Buffer.from([0x55, 0x4b, 2, 0x53]), NOW, PORT))).toBe('malformed');
    // A plain `send --ack` DATA frame is not a sealed frame of another version.
    expect(reasonOf(opener.open(Buffer.from([0x55, 0x4b, 1, 0x44, ...Buffer.alloc(60)]), NOW, PORT))).toBe('malformed');
    expect(reasonOf(opener.open(Buffer.from([0x55, 0x4b, 3, 0x53, ...Buffer.alloc(60)]), NOW, PORT))).toBe('version');
  });

  it('refuses a genuine version-1 frame (no port in it) as "version"', () => {
    // Version 1, built here without src/: a 36-byte header (no port, no flags) as the AAD.
    const nonce = Buffer.alloc(12, 7);
    const header = Buffer.concat([Buffer.from([0x55, 0x4b, 1, 0x53]), Buffer.alloc(8, 0xa0), Buffer.alloc(6), Buffer.from('018bcfe56800', 'hex'), nonce]);
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    cipher.setAAD(header, { plaintextLength: 3 });
    const v1 = Buffer.concat([header, cipher.update(Buffer.from('bye')), cipher.final(), cipher.getAuthTag()]);
    expect(v1.length).toBe(3 + 52);
    expect(reasonOf(new Opener(key).open(v1, NOW, PORT))).toBe('version');
  });

  it('refuses a datagram sealed under another key as forged', () => {
    const sealed = new Sealer(otherKey).seal(Buffer.from('bye'), NOW, { port: PORT });
    expect(reasonOf(new Opener(key).open(sealed, NOW, PORT))).toBe('forged');
  });

  it('never opens a datagram with any one byte changed, and says which part was hit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200, size: 'max' }), fc.nat(), fc.integer({ min: 1, max: 255 }), (plaintext, at, mask) => {
        const sealed = new Sealer(key).seal(plaintext, NOW, { port: PORT });
        const position = at % sealed.length;
        sealed[position] = (sealed[position] as number) ^ mask;
        expect(reasonOf(new Opener(key).open(sealed, NOW, PORT))).toBe(flipReason(position));
      }),
    );
  });

  it('never opens a truncated or extended datagram', () => {
    const sealed = new Sealer(key).seal(Buffer.from('a message of some length'), NOW, { port: PORT });
    for (let length = 0; length < sealed.length; length++) {
      const reason = reasonOf(new Opener(key).open(sealed.subarray(0, length), NOW, PORT));
      expect(reason).toBe(length < 2 ? 'plain' : length < 56 ? 'malformed' : 'forged');
    }
    expect(reasonOf(new Opener(key).open(Buffer.concat([sealed, Buffer.from([0])]), NOW, PORT))).toBe('forged');
  });

  it('returns a result and never throws, for any bytes at all', () => {
    const header = fc.constantFrom(Buffer.alloc(0), Buffer.from([0x55, 0x4b]), Buffer.from([0x55, 0x4b, 2, 0x53]));
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 300, size: 'max' }), fc.double(), (prefix, tail, now) => {
        const result = new Opener(key).open(Buffer.concat([prefix, tail]), now, PORT);
        expect(result.ok).toBe(false);
      }),
    );
  });

  it('opens a datagram that is a view into a larger buffer', () => {
    const sealed = new Sealer(key).seal(Buffer.from('hi'), NOW, { port: PORT });
    const backing = Buffer.concat([Buffer.from('junk'), sealed, Buffer.from('junk')]);
    const result = new Opener(key).open(new Uint8Array(backing.buffer, backing.byteOffset + 4, sealed.length), NOW, PORT);
    expect(result.ok && result.plaintext.toString()).toBe('hi');
  });
});

describe('Opener: the destination port', () => {
  it('refuses a frame sealed for another port as misdirected, without using it up there', () => {
    const opener = new Opener(key);
    const forA = new Sealer(key).seal(Buffer.from('bye'), NOW, { port: 40001 });
    expect(reasonOf(opener.open(forA, NOW, 40002))).toBe('misdirected');
    expect(reasonOf(opener.open(forA, NOW, 40002))).toBe('misdirected');
    // Refusing it changed nothing: on its own port it opens, once.
    expect(reasonOf(opener.open(forA, NOW, 40001))).toBe('ok');
    expect(reasonOf(opener.open(forA, NOW, 40001))).toBe('replayed');
  });

  it('authenticates the port: a frame whose port bytes were rewritten is forged, not misdirected', () => {
    const sealed = new Sealer(key).seal(Buffer.from('bye'), NOW, { port: 40001 });
    sealed.writeUInt16BE(40002, 24);
    expect(reasonOf(new Opener(key).open(sealed, NOW, 40002))).toBe('forged');
    expect(reasonOf(new Opener(key).open(sealed, NOW, 40001))).toBe('forged');
  });

  it('checks the tag first: another key on another port is forged', () => {
    const sealed = new Sealer(otherKey).seal(Buffer.from('x'), NOW, { port: 1 });
    expect(reasonOf(new Opener(key).open(sealed, NOW, 2))).toBe('forged');
  });
});

describe('Opener: timestamps', () => {
  const opener = () => new Opener(key, { maxAgeMs: 1000, maxFutureMs: 500 });

  it('accepts up to maxAgeMs old and maxFutureMs ahead, and refuses beyond as stale', () => {
    const sealer = new Sealer(key);
    expect(reasonOf(opener().open(sealer.seal(Buffer.from('a'), NOW - 1000, { port: PORT }), NOW, PORT))).toBe('ok');
    expect(reasonOf(opener().open(sealer.seal(Buffer.from('b'), NOW - 1001, { port: PORT }), NOW, PORT))).toBe('stale');
    expect(reasonOf(opener().open(sealer.seal(Buffer.from('c'), NOW + 500, { port: PORT }), NOW, PORT))).toBe('ok');
    expect(reasonOf(opener().open(sealer.seal(Buffer.from('d'), NOW + 501, { port: PORT }), NOW, PORT))).toBe('stale');
  });

  it('refuses everything as stale when now is not a number', () => {
    expect(reasonOf(opener().open(new Sealer(key).seal(Buffer.from('a'), NOW, { port: PORT }), NaN, PORT))).toBe('stale');
  });

  it('checks the tag before the timestamp: a tampered timestamp is forged, not stale', () => {
    const sealed = new Sealer(key).seal(Buffer.from('a'), NOW, { port: PORT });
    sealed[18] = 0xff;
    expect(reasonOf(opener().open(sealed, NOW, PORT))).toBe('forged');
  });
});

describe('Opener: replays', () => {
  it('accepts a datagram once and refuses it as replayed after', () => {
    const opener = new Opener(key);
    const [sealed] = sealMany(1) as [Buffer];
    expect(reasonOf(opener.open(sealed, NOW, PORT))).toBe('ok');
    expect(reasonOf(opener.open(sealed, NOW + 1, PORT))).toBe('replayed');
  });

  it('accepts out-of-order delivery within the window exactly once each', () => {
    const opener = new Opener(key, { windowSize: 16 });
    const sealed = sealMany(16);
    for (const d of [...sealed].reverse()) expect(reasonOf(opener.open(d, NOW, PORT))).toBe('ok');
    for (const d of sealed) expect(reasonOf(opener.open(d, NOW, PORT))).toBe('replayed');
  });

  it('refuses a counter older than the window as replayed', () => {
    const opener = new Opener(key, { windowSize: 64 });
    const sealed = sealMany(101);
    expect(reasonOf(opener.open(sealed[100] as Buffer, NOW, PORT))).toBe('ok');
    expect(reasonOf(opener.open(sealed[36] as Buffer, NOW, PORT))).toBe('replayed');
    expect(reasonOf(opener.open(sealed[37] as Buffer, NOW, PORT))).toBe('ok');
  });

  it('does not let a forged datagram move the window', () => {
    const opener = new Opener(key, { windowSize: 64 });
    const sealer = new Sealer(key);
    const sealed = sealMany(1001, sealer);
    const tampered = Buffer.from(sealed[1000] as Buffer);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    const impostor = new Sealer(otherKey, { senderId: Buffer.from(sealer.senderId, 'hex') });
    sealMany(1000, impostor);
    expect(reasonOf(opener.open(tampered, NOW, PORT))).toBe('forged');
    expect(reasonOf(opener.open(impostor.seal(Buffer.from('x'), NOW, { port: PORT }), NOW, PORT))).toBe('forged');
    expect(reasonOf(opener.open(sealed[5] as Buffer, NOW, PORT))).toBe('ok');
    expect(reasonOf(opener.open(sealed[1000] as Buffer, NOW, PORT))).toBe('ok');
  });

  it('keeps senders apart: the same counter from two senders is two datagrams', () => {
    const opener = new Opener(key);
    const [a] = sealMany(1);
    const [b] = sealMany(1);
    expect([reasonOf(opener.open(a as Buffer, NOW, PORT)), reasonOf(opener.open(b as Buffer, NOW, PORT))]).toEqual(['ok', 'ok']);
  });

  it('accepts exactly the distinct datagrams, once each, under any reordering and duplication', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.nat(), { maxLength: 90, size: 'max' }),
        (senders, count, picks) => {
          const sealers = Array.from({ length: senders }, () => new Sealer(key));
          const sealed = Array.from({ length: count }, (_, i) =>
            (sealers[i % senders] as Sealer).seal(Buffer.from(`m${i}`), NOW - i, { port: PORT }),
          );
          const opener = new Opener(key, { windowSize: 32 });
          const accepted: string[] = [];
          for (const pick of picks) {
            const result = opener.open(sealed[pick % count] as Buffer, NOW, PORT);
            if (result.ok) accepted.push(result.plaintext.toString());
          }
          const distinct = [...new Set(picks.map((pick) => `m${pick % count}`))];
          expect(accepted).toEqual(distinct);
        },
      ),
    );
  });
});

describe('Opener: bounded memory', () => {
  it('never holds more than maxSenders windows, under 10 000 senders', () => {
    const opener = new Opener(key, { maxSenders: 100 });
    // One new sender a millisecond: each forgotten one is older than the next newcomer.
    for (let i = 0; i < 10_000; i++) {
      expect(reasonOf(opener.open(new Sealer(key).seal(Buffer.from('x'), NOW + i, { port: PORT }), NOW + i, PORT))).toBe('ok');
      expect(opener.senderCount).toBeLessThanOrEqual(100);
    }
    expect(opener.senderCount).toBe(100);
  });

  it('forgets first a sender whose datagrams are all stale, even if it was seen more recently', () => {
    const opener = new Opener(key, { maxSenders: 3, maxAgeMs: 1000 });
    const [b] = sealMany(1, new Sealer(key), 900);
    const [a] = sealMany(1, new Sealer(key), 0);
    const [c] = sealMany(1, new Sealer(key), 960);
    const [d] = sealMany(1, new Sealer(key), 1500);
    expect([opener.open(b!, 900, PORT), opener.open(a!, 950, PORT), opener.open(c!, 960, PORT), opener.open(d!, 1500, PORT)].map(reasonOf)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect(opener.senderCount).toBe(3);
    expect(reasonOf(opener.open(b!, 1500, PORT))).toBe('replayed');
    expect(reasonOf(opener.open(a!, 1500, PORT))).toBe('stale');
    // Forgetting a stale sender sets no floor: a newcomer with an older (still fresh) clock is fine.
    expect(reasonOf(opener.open(new Sealer(key).seal(Buffer.from('e'), 600, { port: PORT }), 1500, PORT))).toBe('ok');
  });

  it('after forgetting a live sender, refuses what it could have sent, and fails closed for older clocks', () => {
    const opener = new Opener(key, { maxSenders: 2 });
    const alice = new Sealer(key);
    const old = alice.seal(Buffer.from('old'), NOW + 1000, { port: PORT });
    expect(reasonOf(opener.open(old, NOW + 1000, PORT))).toBe('ok');
    expect(reasonOf(opener.open(new Sealer(key).seal(Buffer.from('b'), NOW + 2000, { port: PORT }), NOW + 2000, PORT))).toBe('ok');
    // A third sender pushes alice out while her datagram is still fresh.
    expect(reasonOf(opener.open(new Sealer(key).seal(Buffer.from('c'), NOW + 3000, { port: PORT }), NOW + 3000, PORT))).toBe('ok');
    expect(reasonOf(opener.open(old, NOW + 3000, PORT))).toBe('replayed');
    // Alice is back with a newer datagram; her old one is still refused.
    expect(reasonOf(opener.open(alice.seal(Buffer.from('new'), NOW + 3000, { port: PORT }), NOW + 3000, PORT))).toBe('ok');
    expect(reasonOf(opener.open(old, NOW + 3001, PORT))).toBe('replayed');
    // A new sender whose clock is behind what was forgotten is refused too (fail closed)...
    expect(reasonOf(opener.open(new Sealer(key).seal(Buffer.from('d'), NOW + 1500, { port: PORT }), NOW + 3000, PORT))).toBe('replayed');
    // ...but only until those timestamps are stale anyway.
    expect(reasonOf(opener.open(new Sealer(key).seal(Buffer.from('e'), NOW + 62_500, { port: PORT }), NOW + 63_000, PORT))).toBe('ok');
  });

  it.each([
    [{ windowSize: 0 }],
    [{ maxSenders: 0 }],
    [{ maxAgeMs: -1 }],
    [{ maxFutureMs: 1.5 }],
  ])('refuses the option %j with a RangeError coded UDPKIT_INVALID_ARGUMENT', (options) => {
    const err = thrown(() => new Opener(key, options));
    expect(err).toBeInstanceOf(RangeError);
    expect((err as { code?: unknown }).code).toBe('UDPKIT_INVALID_ARGUMENT');
  });
});
