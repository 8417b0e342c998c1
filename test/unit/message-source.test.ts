import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageSource, readLineBatches, type SizeLimit } from '../../src/cli/message-source.js';
import { rejection } from '../helpers/thrown.js';

type Chunk = string | readonly number[];
const stream = (chunks: readonly Chunk[]): Readable =>
  Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))));

async function batches(input: Readable): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  for await (const batch of readLineBatches(input)) out.push(batch);
  return out;
}

async function lines(chunks: readonly Chunk[]): Promise<string[]> {
  return (await batches(stream(chunks))).flat().map((line) => line.toString('latin1'));
}

describe('readLineBatches', () => {
  it.each([
    ['lines in one chunk', ['a\nbb\nccc\n'], ['a', 'bb', 'ccc']],
    ['a line split across chunks', ['he', 'll', 'o\nwor', 'ld\n'], ['hello', 'world']],
    ['CRLF', ['a\r\nb\r\n'], ['a', 'b']],
    ['CRLF split between \\r and \\n', ['a\r', '\nb\r', '\n'], ['a', 'b']],
    ['a last line without newline', ['a\nlast'], ['a', 'last']],
    ['a last line ending in \\r', ['a\nlast\r'], ['a', 'last']],
    ['empty lines', ['\n\na\n\n'], ['', '', 'a', '']],
    ['a lone \\r inside a line', ['a\rb\n'], ['a\rb']],
    ['empty chunks', ['', 'a', '', '\n', ''], ['a']],
    ['nothing', [], []],
  ])('splits %s', async (_what, chunks, expected) => {
    expect(await lines(chunks)).toEqual(expected);
  });

  it('keeps binary bytes as they are', async () => {
    const out = (await batches(stream([[0x00, 0xff, 0x0a, 0x80, 0x1b], [0x0d, 0x0a]]))).flat();
    expect(out).toEqual([Buffer.from([0x00, 0xff]), Buffer.from([0x80, 0x1b])]);
  });

  it('yields empty lines as empty Buffers', async () => {
    const out = (await batches(stream(['\n\r\n']))).flat();
    expect(out).toEqual([Buffer.alloc(0), Buffer.alloc(0)]);
  });

  it('yields one batch per chunk that completes lines, and no empty batch', async () => {
    const out = await batches(stream(['a\nb\n', 'partial', ' line\nc\n', 'tail']));
    expect(out.map((batch) => batch.map(String))).toEqual([['a', 'b'], ['partial line', 'c'], ['tail']]);
  });

  it('gives back any lines, however the stream is cut into chunks', async () => {
    const line = fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b.filter((x) => x !== 0x0a && x !== 0x0d)));
    const input = fc
      .record({ lines: fc.array(line, { maxLength: 30 }), crlf: fc.boolean(), finalNewline: fc.boolean() })
      .chain((r) => {
        const eol = r.crlf ? '\r\n' : '\n';
        const text = Buffer.concat(r.lines.map((l, i) => (i < r.lines.length - 1 || r.finalNewline ? Buffer.concat([l, Buffer.from(eol)]) : l)));
        return fc.record({ lines: fc.constant(r.lines), text: fc.constant(text), cuts: fc.array(fc.nat({ max: text.length }), { maxLength: 10 }), finalNewline: fc.constant(r.finalNewline) });
      });
    await fc.assert(
      fc.asyncProperty(input, async ({ lines: given, text, cuts, finalNewline }) => {
        const edges = [0, ...cuts.sort((a, b) => a - b), text.length];
        const chunks = edges.slice(1).map((end, i) => text.subarray(edges[i], end));
        // Without a final newline an empty last line leaves no trace in the bytes.
        const expected = !finalNewline && given.at(-1)?.length === 0 ? given.slice(0, -1) : given;
        const out = (await batches(Readable.from(chunks))).flat();
        expect(out).toEqual(expected);
      }),
    );
  });
});

describe('messageSource', () => {
  const noStdin = (): Readable => Readable.from([]);

  it.each([
    [['hello', 'world'], 'hello world'],
    [['héllo'], 'héllo'],
    [['-', 'x'], '- x'],
    [[''], ''],
  ])('joins the words %j with spaces', async (words, text) => {
    expect(await messageSource(words, {}, { stdin: noStdin() })).toEqual({ kind: 'fixed', data: Buffer.from(text) });
  });

  it.each([[[]], [['-']]])('reads stdin line by line for the words %j', async (words) => {
    expect(await messageSource(words, {}, { stdin: noStdin() })).toEqual({ kind: 'lines' });
  });

  it('sends the bytes of --hex', async () => {
    expect(await messageSource([], { hex: 'de ad:00' }, { stdin: noStdin() })).toEqual({ kind: 'fixed', data: Buffer.from([0xde, 0xad, 0x00]) });
  });

  it('refuses --hex that is not hex, with its coded error', async () => {
    expect(await rejection(messageSource([], { hex: 'xyz' }, { stdin: noStdin() }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });

  it('reads all of stdin, byte for byte, with --raw', async () => {
    const stdin = stream(['line 1\n', [0xff, 0x00, 0x0d, 0x0a]]);
    expect(await messageSource([], { raw: true }, { stdin })).toEqual({ kind: 'fixed', data: Buffer.concat([Buffer.from('line 1\n'), Buffer.from([0xff, 0x00, 0x0d, 0x0a])]) });
  });

  it('gives an empty datagram for an empty stdin with --raw', async () => {
    expect(await messageSource([], { raw: true }, { stdin: noStdin() })).toEqual({ kind: 'fixed', data: Buffer.alloc(0) });
  });

  it('does not count --raw when it is false', async () => {
    expect(await messageSource(['hi'], { raw: false }, { stdin: noStdin() })).toEqual({ kind: 'fixed', data: Buffer.from('hi') });
  });

  it('sends the bytes of --file', async () => {
    const path = fileURLToPath(import.meta.url);
    expect(await messageSource([], { file: path }, { stdin: noStdin() })).toEqual({ kind: 'fixed', data: readFileSync(path) });
  });

  it.each([
    ['/nonexistent-udpkit-dir/missing.bin', 'ENOENT', 'no such file or directory'],
    [tmpdir(), 'EISDIR', 'is a directory'],
  ])('reports a --file %s that cannot be read, naming the path', async (path, errno, why) => {
    const err = await rejection(messageSource([], { file: path }, { stdin: noStdin() }));
    expect(err).toMatchObject({ name: 'UdpkitError', code: 'UDPKIT_IO_FAILED', errno, message: `cannot read file ${JSON.stringify(path)}: ${why}` });
  });

  it.each([
    [['hi'], { hex: '00' }, 'MESSAGE, --hex'],
    [['-'], { hex: '00', file: 'x' }, '--hex, --file'],
    [['hi'], { raw: true }, 'MESSAGE, --raw'],
    [[], { file: 'x', raw: true }, '--file, --raw'],
    [['a', 'b'], { hex: '00', file: 'x', raw: true }, 'MESSAGE, --hex, --file, --raw'],
  ])('refuses %j with %j: two sources at once', async (words, opts, named) => {
    const err = await rejection(messageSource(words, opts, { stdin: noStdin() }));
    expect(err).toMatchObject({ code: 'UDPKIT_USAGE', message: `give only one of ${named}` });
  });
});

describe('size limits and aborts', () => {
  const limit = (bytes: number): SizeLimit => ({
    bytes,
    tooLarge: (size) => Object.assign(new RangeError(`message is ${size === undefined ? `more than ${bytes}` : size} bytes`), { code: 'UDPKIT_MESSAGE_TOO_LARGE' }),
  });
  const noStdin = (): Readable => Readable.from([]);

  it('reads --raw up to the limit, and refuses one byte more without reading on', async () => {
    expect(await messageSource([], { raw: true }, { stdin: stream(['abc', 'de']) }, limit(5))).toEqual({ kind: 'fixed', data: Buffer.from('abcde') });
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(4));
      },
    });
    const err = await rejection(messageSource([], { raw: true }, { stdin: endless }, limit(10)));
    expect(err).toMatchObject({ code: 'UDPKIT_MESSAGE_TOO_LARGE', message: 'message is more than 10 bytes' });
    // The stream reads ahead up to its own buffer (16 KiB), no further: the source never ends.
    expect(pulled * 4).toBeLessThan(17 * 1024);
  });

  it('refuses a regular --file by its size, and reads a device only to the limit', async () => {
    const path = fileURLToPath(import.meta.url);
    const size = readFileSync(path).length;
    expect(await rejection(messageSource([], { file: path }, { stdin: noStdin() }, limit(100)))).toMatchObject({ message: `message is ${size} bytes` });
    expect(await rejection(messageSource([], { file: '/dev/zero' }, { stdin: noStdin() }, limit(100_000)))).toMatchObject({ message: 'message is more than 100000 bytes' });
    expect(await messageSource([], { file: path }, { stdin: noStdin() }, limit(size))).toEqual({ kind: 'fixed', data: readFileSync(path) });
  });

  it('applies the limit to words and --hex too', async () => {
    expect(await rejection(messageSource(['toolong'], {}, { stdin: noStdin() }, limit(3)))).toMatchObject({ message: 'message is 7 bytes' });
    expect(await messageSource(['abc'], {}, { stdin: noStdin() }, limit(3))).toEqual({ kind: 'fixed', data: Buffer.from('abc') });
  });

  it('ends a --raw read that waits when the signal aborts', async () => {
    const waiting = new Readable({ read() {} });
    waiting.push('partial');
    const ac = new AbortController();
    const reading = rejection(messageSource([], { raw: true }, { stdin: waiting, signal: ac.signal }));
    ac.abort();
    expect(await reading).toMatchObject({ name: 'AbortError' });
  });

  it('yields the lines before a line too long, then names its number: cut at the limit, or by size', async () => {
    const out: string[] = [];
    const cut = rejection(
      (async () => {
        for await (const batch of readLineBatches(stream(['ok\nfine\nxxxxxx', 'xxxxxx']), { limit: limit(8) })) out.push(...batch.map(String));
      })(),
    );
    expect(await cut).toMatchObject({ message: 'line 3: message is more than 8 bytes' });
    expect(out).toEqual(['ok', 'fine']);
    const whole = await rejection(batches2(stream(['a\n0123456789\nb\n']), limit(8)));
    expect(whole).toMatchObject({ message: 'line 2: message is 10 bytes' });
  });

  it('takes a CRLF line exactly at the limit, split between \\r and \\n', async () => {
    const got = (await batches2(stream(['12345678\r', '\n']), limit(8))).flat().map(String);
    expect(got).toEqual(['12345678']);
  });

  it('stops reading lines quietly when the signal aborts', async () => {
    const waiting = new Readable({ read() {} });
    waiting.push('a\n');
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of readLineBatches(waiting, { signal: ac.signal })) {
        seen.push(...batch.map(String));
        ac.abort();
      }
    })();
    await reading;
    expect(seen).toEqual(['a']);
    expect(waiting.destroyed).toBe(true);
  });
});

async function batches2(input: Readable, l: SizeLimit): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  for await (const batch of readLineBatches(input, { limit: l })) out.push(batch);
  return out;
}
