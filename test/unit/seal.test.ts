import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Opener } from '../../src/protocol/opener.js';
import { MAX_UINT48, maxSealedPlaintext, SEAL_OVERHEAD, SEAL_VERSION, Sealer } from '../../src/protocol/seal.js';
import { deriveKey } from '../../src/protocol/seal-key.js';
import { thrown } from '../helpers/thrown.js';

// scrypt is slow on purpose: derive once for the file.
const SECRET = 'correct horse battery staple';
const key = deriveKey(SECRET);
const NOW = 1_700_000_000_123;
const PORT = 5000;

/** A random source that hands out 0x00, 0x01, 0x02... across calls. */
function countingRandom(): (n: number) => Buffer {
  let next = 0;
  return (n) => Buffer.from(Array.from({ length: n }, () => next++ & 0xff));
}

function expectCoded(fn: () => unknown, code: string, kind: ErrorConstructor): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(kind);
  expect((err as { code?: unknown }).code).toBe(code);
}

describe('deriveKey', () => {
  it('matches scrypt(N=2^14, r=8, p=1, salt "udpkit seal v1") as computed by Python hashlib', () => {
    // python3: hashlib.scrypt(b'correct horse battery staple', salt=b'udpkit seal v1', n=16384, r=8, p=1, dklen=32)
    expect(key.toString('hex')).toBe('aef971205aaf3faae93d7d566677f04845c4b8ec14ca9412f1f5434445088893');
  });

  it('gives the same key for the same secret, as a string or its UTF-8 bytes', () => {
    expect(deriveKey(Buffer.from(SECRET, 'utf8')).equals(key)).toBe(true);
  });

  it('gives a different key for a different secret', () => {
    expect(deriveKey('correct horse battery stapler').equals(key)).toBe(false);
  });

  it('treats composed and decomposed accents as the same passphrase (NFC)', () => {
    expect(deriveKey('caf\u00e9').equals(deriveKey('cafe\u0301'))).toBe(true);
  });

  it.each([[''], [new Uint8Array(0)], [42], [null]])('refuses %j with a TypeError coded UDPKIT_INVALID_ARGUMENT', (secret) => {
    expectCoded(() => deriveKey(secret as string), 'UDPKIT_INVALID_ARGUMENT', TypeError);
  });
});

describe('Sealer', () => {
  it('round-trips through an Opener with the same key', () => {
    const sealer = new Sealer(key);
    const result = new Opener(key).open(sealer.seal(Buffer.from('hello'), NOW, { port: PORT }), NOW, PORT);
    expect(result).toEqual({ ok: true, plaintext: Buffer.from('hello'), senderId: sealer.senderId, counter: 0, timestamp: NOW, answer: false });
  });

  it('carries the answer mark through to the Opener', () => {
    const result = new Opener(key).open(new Sealer(key).seal(Buffer.from('echo'), NOW, { port: PORT, answer: true }), NOW, PORT);
    expect(result.ok && result.answer).toBe(true);
  });

  it('writes the header exactly: magic, version, type, sender id, counter, timestamp, port, flags, nonce', () => {
    const sealer = new Sealer(key, { random: countingRandom() });
    const first = sealer.seal(Buffer.from('abc'), NOW, { port: PORT });
    const second = sealer.seal(Buffer.alloc(0), NOW + 1, { port: 65535, answer: true });
    expect(sealer.senderId).toBe('0001020304050607');
    expect(first.subarray(0, 40).toString('hex')).toBe(
      '554b' + '02' + '53' + '0001020304050607' + '000000000000' + '018bcfe5687b' + '1388' + '0000' + '08090a0b0c0d0e0f10111213',
    );
    expect(second.subarray(0, 40).toString('hex')).toBe(
      '554b' + '02' + '53' + '0001020304050607' + '000000000001' + '018bcfe5687c' + 'ffff' + '0001' + '1415161718191a1b1c1d1e1f',
    );
    expect(first.length).toBe(3 + SEAL_OVERHEAD);
    expect(second.length).toBe(SEAL_OVERHEAD);
    expect(SEAL_OVERHEAD).toBe(56);
    expect(SEAL_VERSION).toBe(2);
  });

  it.each([[0], [65536], [1.5], [NaN], [undefined]])('refuses the destination port %s', (port) => {
    expectCoded(() => new Sealer(key).seal(Buffer.from('x'), NOW, { port: port as number }), 'UDPKIT_INVALID_ARGUMENT', RangeError);
  });

  // Computed with Python's `cryptography` ChaCha20Poly1305 over the 40-byte header as AAD.
  it('matches a known answer, which a decryption written here opens', () => {
    const kat = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const nonce = Buffer.from('000102030405060708090a0b', 'hex');
    const sealer = new Sealer(kat, { senderId: Buffer.from('a0a1a2a3a4a5a6a7', 'hex'), random: () => Buffer.from(nonce) });
    sealer.seal(Buffer.from('x'), 0, { port: PORT });
    const sealed = sealer.seal(Buffer.from('hello, udpkit'), NOW, { port: PORT });
    const expected =
      '554b0253a0a1a2a3a4a5a6a7000000000001018bcfe5687b13880000000102030405060708090a0b' +
      'e19e646c463b8535d3f3549aec' +
      'a2fc1b92a6eb2bc4da8dc9fca04ebbd8';
    expect(sealed.toString('hex')).toBe(expected);

    // Independently of src/: the header is bytes 0-39, the nonce bytes 28-39, the tag the last 16.
    const decipher = createDecipheriv('chacha20-poly1305', kat, sealed.subarray(28, 40), { authTagLength: 16 });
    decipher.setAAD(sealed.subarray(0, 40), { plaintextLength: sealed.length - 56 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([decipher.update(sealed.subarray(40, sealed.length - 16)), decipher.final()]);
    expect(plain.toString()).toBe('hello, udpkit');
  });

  it('reads a plaintext from a view into a larger buffer', () => {
    const backing = Buffer.from('xxhelloxx');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 5);
    const result = new Opener(key).open(new Sealer(key).seal(view, NOW, { port: PORT }), NOW, PORT);
    expect(result.ok && result.plaintext.toString()).toBe('hello');
  });

  it('seals the largest plaintext a UDP datagram can carry, and refuses one byte more', () => {
    expect(maxSealedPlaintext(4)).toBe(65507 - 56);
    expect(maxSealedPlaintext(6)).toBe(65527 - 56);
    const sealer = new Sealer(key);
    expect(sealer.seal(Buffer.alloc(maxSealedPlaintext(6)), NOW, { port: PORT }).length).toBe(65527);
    expectCoded(() => sealer.seal(Buffer.alloc(maxSealedPlaintext(6) + 1), NOW, { port: PORT }), 'UDPKIT_MESSAGE_TOO_LARGE', RangeError);
  });

  it.each([[-1], [NaN], [Infinity], [MAX_UINT48 + 1]])('refuses now = %d', (now) => {
    expectCoded(() => new Sealer(key).seal(Buffer.from('x'), now, { port: PORT }), 'UDPKIT_INVALID_ARGUMENT', RangeError);
  });

  it('refuses a key that is not 32 bytes, a sender id that is not 8, and a random source that lies', () => {
    expectCoded(() => new Sealer(Buffer.alloc(16)), 'UDPKIT_INVALID_ARGUMENT', RangeError);
    expectCoded(() => new Sealer('k' as unknown as Buffer), 'UDPKIT_INVALID_ARGUMENT', TypeError);
    expectCoded(() => new Sealer(key, { senderId: Buffer.alloc(7) }), 'UDPKIT_INVALID_ARGUMENT', RangeError);
    const short = new Sealer(key, { senderId: Buffer.alloc(8), random: () => Buffer.alloc(11) });
    expectCoded(() => short.seal(Buffer.from('x'), NOW, { port: PORT }), 'UDPKIT_INVALID_ARGUMENT', RangeError);
  });

  it('keeps its own copy of the key and sender id', () => {
    const mine = Buffer.from(key);
    const id = Buffer.alloc(8, 1);
    const sealer = new Sealer(mine, { senderId: id });
    mine.fill(0);
    id.fill(2);
    const result = new Opener(key).open(sealer.seal(Buffer.from('x'), NOW, { port: PORT }), NOW, PORT);
    expect(result.ok && result.senderId).toBe('0101010101010101');
  });
});
