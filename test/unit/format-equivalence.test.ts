/**
 * The byte writers, in TypeScript and in C, against the string-based formatters they replaced
 * (test/helpers/format-oracle.ts), byte for byte: text, JSON and hex-dump lines, batches and
 * single datagrams, for payloads chosen to hit every rule of the escaping (src/format/escape.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteBuilder } from '../../src/format/byte-builder.js';
import { formatHexDump, jsonLine, textLine } from '../../src/format/datagram.js';
import { JsonBatchFormatter } from '../../src/format/json-batch.js';
import { SenderParts, writeJsonLine, writeTextLine } from '../../src/format/line-bytes.js';
import { writeLinesNative } from '../../src/format/native-lines.js';
import { sanitizeBytes, sanitizeText } from '../../src/format/sanitize.js';
import { HexBatchFormatter, TextBatchFormatter } from '../../src/format/text-batch.js';
import { loadNative, nativeLoadError } from '../../src/native/binding.js';
import { PLAIN_JSON, PLAIN_TEXT, type DatagramBatch } from '../../src/socket/batch.js';
import type { AddressFamily } from '../../src/types.js';
import { anyString, payload, SPECIAL } from '../helpers/escape-payloads.js';
import { oldFormatHexDump, oldJsonLine, oldSanitizeBytes, oldSanitizeText, oldTextLine } from '../helpers/format-oracle.js';

const native = loadNative();
if (!native) console.warn(`SKIPPED the native half of the format equivalence test: ${String(nativeLoadError())}`);

const RUNS = 2500;

const sender = fc.oneof(
  fc.ipV4().map((a) => ({ address: a, family: 'IPv4' as AddressFamily })),
  fc.ipV6().map((a) => ({ address: a, family: 'IPv6' as AddressFamily })),
  fc.tuple(fc.ipV6(), fc.oneof(fc.stringMatching(/^[a-z0-9]{1,15}$/), fc.string({ unit: 'binary', maxLength: 15 }), anyString)).map(([a, zone]) => ({ address: `${a}%${zone}`, family: 'IPv6' as AddressFamily })),
);

/** Datagrams side by side in one buffer, with gaps, at an offset inside a larger allocation. */
const batchArb = fc
  .record({
    datagrams: fc.array(fc.record({ payload, port: fc.integer({ min: 0, max: 65535 }), sender: fc.nat(), gap: fc.nat({ max: 3 }) }), { minLength: 1, maxLength: 16 }),
    senders: fc.array(sender, { minLength: 1, maxLength: 4 }),
    ms: fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.integer({ min: 1.6e12, max: 2e12 })),
    flags: fc.boolean(),
    cut: fc.tuple(fc.nat(), fc.nat()),
  })
  .map(({ datagrams, senders, ms, flags, cut }) => {
    const parts: Buffer[] = [Buffer.alloc(5, 0x41)];
    let at = 5;
    const starts = new Uint32Array(datagrams.length);
    const lengths = new Uint32Array(datagrams.length);
    datagrams.forEach((d, i) => {
      parts.push(Buffer.alloc(d.gap, 0xff), d.payload);
      at += d.gap;
      starts[i] = at - 5;
      lengths[i] = d.payload.length;
      at += d.payload.length;
    });
    const data = Buffer.concat(parts).subarray(5);
    const b: DatagramBatch = {
      count: datagrams.length,
      data,
      starts,
      lengths,
      ports: Uint16Array.from(datagrams.map((d) => d.port)),
      senders: Uint8Array.from(datagrams.map((d) => d.sender % senders.length)),
      addresses: senders.map((s) => s.address),
      families: senders.map((s) => s.family),
      replyAddresses: senders.map((s) => s.address),
      receivedAt: ms,
      ...(flags ? { flags: Uint8Array.from(datagrams.map((d) => classify(d.payload))) } : {}),
    };
    const from = cut[0] % b.count;
    return { b, from, to: from + (cut[1] % (b.count - from + 1)) };
  });

/** The flags a socket may give (see DatagramBatch.flags), computed the plain way. */
function classify(p: Uint8Array): number {
  const text = p.every((x) => (x >= 0x20 && x <= 0x7e && x !== 0x5c) || x === 0x09);
  const json = p.every((x) => x >= 0x20 && x <= 0x7e && x !== 0x5c && x !== 0x22);
  return (text ? PLAIN_TEXT : 0) | (json ? PLAIN_JSON : 0);
}

/** What the old formatters write for datagrams [from, to): text, JSON and `--hex` output. */
function expected(b: DatagramBatch, from: number, to: number): { text: Buffer; json: Buffer; hex: Buffer } {
  const text: string[] = [];
  const json: string[] = [];
  const hex: string[] = [];
  for (let i = from; i < to; i++) {
    const start = b.starts[i]!;
    const end = start + b.lengths[i]!;
    const s = b.senders[i]!;
    const line = oldTextLine(b.data, start, end, b.ports[i]!, b.addresses[s]!) + '\n';
    text.push(line);
    json.push(oldJsonLine(b.data, start, end, b.addresses[s]!, b.ports[i]!, b.families[s]!, b.receivedAt) + '\n');
    hex.push(line + (end > start ? oldFormatHexDump(b.data.subarray(start, end)) + '\n' : ''));
  }
  return { text: Buffer.from(text.join('')), json: Buffer.from(json.join('')), hex: Buffer.from(hex.join('')) };
}

/** Equal buffers, shown as text when they differ. */
function same(actual: Buffer, wanted: Buffer): void {
  if (!actual.equals(wanted)) expect(actual.toString('latin1')).toBe(wanted.toString('latin1'));
}

describe('TypeScript writers write what the old formatters wrote', () => {
  const text = new TextBatchFormatter(null);
  const json = new JsonBatchFormatter(null);
  const hex = new HexBatchFormatter();

  it('batches: text, JSON and --hex lines, any payloads, senders, times and ranges', () => {
    fc.assert(
      fc.property(batchArb, ({ b, from, to }) => {
        const want = expected(b, from, to);
        same(text.format(b, from, to), want.text);
        same(json.format(b, from, to), want.json);
        same(hex.format(b, from, to), want.hex);
      }),
      { numRuns: RUNS },
    );
  });

  it('line by line into a tiny builder, so every line moves to a new buffer', () => {
    fc.assert(
      fc.property(batchArb, ({ b, from, to }) => {
        const want = expected(b, from, to);
        const parts = new SenderParts();
        const outText = new ByteBuilder(16);
        const outJson = new ByteBuilder(16);
        outText.begin();
        outJson.begin();
        for (let i = from; i < to; i++) {
          const start = b.starts[i]!;
          const s = b.senders[i]!;
          writeTextLine(outText, b.data, start, start + b.lengths[i]!, b.ports[i]!, parts.text(b.addresses[s]!), false);
          const head = parts.jsonHead(b.addresses[s]!, b.receivedAt, new Date(b.receivedAt).toISOString());
          writeJsonLine(outJson, b.data, start, start + b.lengths[i]!, head, b.ports[i]!, b.families[s]!, false);
        }
        same(outText.end(), want.text);
        same(outJson.end(), want.json);
      }),
      { numRuns: RUNS / 5 },
    );
  });

  it('single datagrams: sanitizeBytes, textLine, jsonLine, formatHexDump', () => {
    fc.assert(
      fc.property(batchArb, ({ b, from }) => {
        const start = b.starts[from]!;
        const end = start + b.lengths[from]!;
        const s = b.senders[from]!;
        const address = b.addresses[s]!;
        expect(sanitizeBytes(b.data, start, end)).toBe(oldSanitizeBytes(b.data, start, end));
        expect(textLine(b.data, start, end, b.ports[from]!, address)).toBe(oldTextLine(b.data, start, end, b.ports[from]!, address));
        expect(jsonLine(b.data, start, end, address, b.ports[from]!, b.families[s]!, b.receivedAt)).toBe(oldJsonLine(b.data, start, end, address, b.ports[from]!, b.families[s]!, b.receivedAt));
        expect(formatHexDump(b.data.subarray(start, end))).toBe(oldFormatHexDump(b.data.subarray(start, end)));
      }),
      { numRuns: RUNS },
    );
  });

  it('sanitizeText, for any string (lone surrogates and every special character included)', () => {
    const text = fc.array(fc.oneof(anyString, fc.constantFrom(...SPECIAL).map((cp) => String.fromCodePoint(cp))), { maxLength: 20 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, (t) => {
        expect(sanitizeText(t)).toBe(oldSanitizeText(t));
      }),
      { numRuns: RUNS },
    );
  });

  it('a hex dump past 64 KiB widens the offset as before', () => {
    const big = Buffer.alloc(0x10011, 0x41);
    expect(formatHexDump(big)).toBe(oldFormatHexDump(big));
  });
});

describe.skipIf(!native)('the C writers write what the old formatters wrote', () => {
  const text = new TextBatchFormatter(native?.formatLines ?? null);
  const json = new JsonBatchFormatter(native?.formatLines ?? null);

  it('batches: text and JSON lines, any payloads, senders, times and ranges', () => {
    fc.assert(
      fc.property(batchArb, ({ b, from, to }) => {
        const want = expected(b, from, to);
        same(text.format(b, from, to), want.text);
        same(json.format(b, from, to), want.json);
      }),
      { numRuns: RUNS },
    );
  });

  it('into a tiny builder: the addon stops when out is full and goes on once it has grown', () => {
    fc.assert(
      fc.property(batchArb, ({ b, from, to }) => {
        const want = expected(b, from, to);
        for (const [json, wanted] of [[false, want.text], [true, want.json]] as const) {
          const out = new ByteBuilder(16);
          out.begin();
          writeLinesNative(native!.formatLines, json, b, from, to, new Date(b.receivedAt).toISOString(), out);
          same(out.end(), wanted);
        }
      }),
      { numRuns: RUNS / 5 },
    );
  });

  it('UTF-8 sequences, valid and not, whole and cut short, at every place in and across 16-byte blocks', () => {
    // The C text escaper finds where sequences start a whole 16-byte block at a time and reads up
    // to 3 bytes past it, and walks the last bytes one at a time: each sequence at offsets 0..40,
    // after bytes that must be escaped or not, with tails of several lengths.
    const sequences = [
      [0xc2, 0x80], [0xc2, 0xa0], [0xdf, 0xbf], [0xc1, 0xbf], [0xe0, 0xa0, 0x80], [0xe0, 0x9f, 0xbf], [0xe2, 0x80, 0xa8],
      [0xe2, 0x80, 0xae], [0xe2, 0x81, 0xa6], [0xed, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xef, 0xbf, 0xbf], [0xf0, 0x90, 0x80, 0x80],
      [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80],
    ];
    const payloads: Buffer[] = [];
    for (const seq of sequences) {
      for (const cut of [0, 1]) {
        for (const filler of [0x01, 0x61]) {
          for (let at = 0; at <= 40; at++) {
            for (const tail of [0, 1, 5, 19, 40]) payloads.push(Buffer.from([...Array(at).fill(filler), ...seq.slice(0, seq.length - cut), ...Array(tail).fill(filler)]));
          }
        }
      }
    }
    for (let first = 0; first < payloads.length; first += 64) {
      const some = payloads.slice(first, first + 64);
      const starts = new Uint32Array(some.length);
      let at = 0;
      some.forEach((p, i) => {
        starts[i] = at;
        at += p.length;
      });
      const b: DatagramBatch = {
        count: some.length,
        data: Buffer.concat(some),
        starts,
        lengths: Uint32Array.from(some.map((p) => p.length)),
        ports: new Uint16Array(some.length).fill(7),
        senders: new Uint8Array(some.length),
        addresses: ['127.0.0.1'],
        families: ['IPv4'],
        replyAddresses: ['127.0.0.1'],
        receivedAt: 1.7e12,
      };
      const want = expected(b, 0, b.count);
      same(text.format(b, 0, b.count), want.text);
      same(json.format(b, 0, b.count), want.json);
    }
  });

  it('refuses arguments that would read or write out of bounds, coded', () => {
    const f = native!.formatLines;
    const data = Buffer.from('hello');
    const call = (o: { starts?: number[]; senders?: number[]; state?: number[]; out?: Uint8Array; flags?: Uint8Array }) => () =>
      f(false, data, Uint32Array.from(o.starts ?? [0]), Uint32Array.of(5), Uint16Array.of(1), Uint8Array.from(o.senders ?? [0]), ['127.0.0.1'], ['IPv4'], '', o.flags, o.out ?? Buffer.alloc(256), Uint32Array.from(o.state ?? [0, 1, 0, 0]));
    expect(call({})()).toBe(true);
    expect(call({ starts: [1] })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(call({ senders: [1] })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(call({ state: [0, 2, 0, 0] })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(call({ state: [0, 1, 257, 0] })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(call({ flags: new Uint8Array(0) })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(() => f(false, data, new Uint16Array(1) as unknown as Uint32Array, Uint32Array.of(5), Uint16Array.of(1), Uint8Array.of(0), ['a'], ['IPv4'], '', undefined, Buffer.alloc(64), Uint32Array.of(0, 1, 0, 0))).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'UDPKIT_INVALID_ARGUMENT' }),
    );
    expect(() => f(true, data, Uint32Array.of(0), Uint32Array.of(5), Uint16Array.of(1), Uint8Array.of(0), [7 as unknown as string], ['IPv4'], 'x', undefined, Buffer.alloc(64), Uint32Array.of(0, 1, 0, 0))).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'UDPKIT_INVALID_ARGUMENT' }),
    );
    // Too small an output: nothing past it is written, and the room needed is reported.
    const out = Buffer.alloc(40, 0x2e);
    const state = Uint32Array.of(0, 1, 0, 0);
    expect(f(false, data, Uint32Array.of(0), Uint32Array.of(5), Uint16Array.of(1), Uint8Array.of(0), ['127.0.0.1'], ['IPv4'], '', undefined, out.subarray(0, 20), state)).toBe(false);
    expect([...state]).toEqual([0, 1, 0, state[3]]);
    expect(state[3]).toBeGreaterThan(20);
    expect(out.toString()).toBe('.'.repeat(40));
  });
});
