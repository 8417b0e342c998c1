/**
 * The pure parts of IP Messenger file transfer: the attachment list (`::` escaping, hex fields,
 * BEL separators), requests, the GETDIRFILES header and stream decoder, the name sanitizer
 * (property-tested), and the offer table's rule: only what was offered, to whom.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAttachments, encodeAttachments, fileRequestExtra, parseFileRequest, type IpmsgAttachment } from '../../src/protocol/ipmsg-attach.js';
import { DirStreamDecoder, dirHeader, MAX_DIR_DEPTH, type DirStreamItem } from '../../src/protocol/ipmsg-dir-stream.js';
import { OfferTable } from '../../src/protocol/ipmsg-files.js';
import { MAX_NAME_BYTES, isSafeFileName, numberedName, safeFileName } from '../../src/protocol/ipmsg-names.js';
import { decodeIpmsgPacket } from '../../src/protocol/ipmsg-packet.js';
import { IpmsgSession } from '../../src/protocol/ipmsg-session.js';

const file = (id: number, name: string, size: number, kind: 'file' | 'dir' = 'file'): IpmsgAttachment => ({ id, name, size, mtime: 0x65f0c3a1, kind });

describe('attachment list', () => {
  it('encodes ids in decimal, sizes, times and attributes in hex, colons doubled, each entry ended by BEL', () => {
    expect(encodeAttachments([file(0, 'a:b.txt', 26), file(12, 'photos', 0, 'dir')])).toBe('0:a::b.txt:1a:65f0c3a1:1:\x0712:photos:0:65f0c3a1:2:\x07');
  });

  it('decodes what it encodes, for any name without NUL or BEL', () => {
    const name = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\0\x07]/.test(s));
    const entry = fc.record({ id: fc.nat(1e6), name, size: fc.nat(2 ** 40), mtime: fc.nat(2 ** 32 - 1), kind: fc.constantFrom('file' as const, 'dir' as const) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (files) => {
        // A name ending in ":" would merge with the field separator after it: not representable.
        const ok = files.filter((f) => !f.name.endsWith(':') && !f.name.startsWith(':'));
        expect(decodeAttachments(encodeAttachments(ok))).toEqual(ok.map((f) => ({ ...f, size: f.kind === 'dir' ? 0 : f.size })));
      }),
    );
  });

  it('reads other clients\' forms: a colon before the next entry, extended attributes, a trailing NUL; skips what does not parse', () => {
    const list = '0:report.pdf:400:65f0c3a1:1:14=65f0c3a1:16=1:\x07:1:日本語.txt:a:0:1:\x07x:bad:1:0:1:\x072:link:0:0:4:\x073:nosize::0:1:\x07\0';
    expect(decodeAttachments(list)).toEqual([
      { id: 0, name: 'report.pdf', size: 1024, mtime: 0x65f0c3a1, kind: 'file' },
      { id: 1, name: '日本語.txt', size: 10, mtime: 0, kind: 'file' },
    ]);
    expect(decodeAttachments('')).toEqual([]);
    expect(decodeAttachments('\x07\x07::::\x07')).toEqual([]);
  });
});

describe('requests', () => {
  it('GETFILEDATA carries packet:file:offset in hex; GETDIRFILES packet:file', () => {
    expect(fileRequestExtra({ kind: 'file', packetNo: 255, fileId: 1, offset: 4096 })).toBe('ff:1:1000:');
    expect(fileRequestExtra({ kind: 'dir', packetNo: 255, fileId: 10, offset: 0 })).toBe('ff:a:');
    expect(parseFileRequest(0x60, 'ff:1:1000:')).toEqual({ kind: 'file', packetNo: 255, fileId: 1, offset: 4096 });
    expect(parseFileRequest(0x800060, 'ff:1:1000')).toEqual({ kind: 'file', packetNo: 255, fileId: 1, offset: 4096 });
    expect(parseFileRequest(0x62, 'ff:a:\0')).toEqual({ kind: 'dir', packetNo: 255, fileId: 10, offset: 0 });
  });

  it('refuses what is not one', () => {
    for (const [cmd, extra] of [
      [0x60, 'ff:1:'],
      [0x60, 'zz:1:0:'],
      [0x60, ':1:0:'],
      [0x20, 'ff:1:0:'],
      [0x62, 'ff'],
      [0x60, '-1:1:0:'],
    ] as const) {
      expect(parseFileRequest(cmd, extra), `${cmd} ${extra}`).toBeUndefined();
    }
  });
});

describe('GETDIRFILES stream', () => {
  it('a header counts its own bytes, from its first digit to its last colon, in hex', () => {
    const h = dirHeader({ name: 'a.jpg', size: 5, kind: 'file', mtime: 0x65f0c3a2 });
    expect(h.toString()).toBe('001b:a.jpg:5:1:14=65f0c3a2:');
    expect(h.length).toBe(0x1b);
    expect(dirHeader({ name: '.', size: 0, kind: 'up' }).toString()).toBe('000b:.:0:3:');
    const colon = dirHeader({ name: 'x:y 你好', size: 0, kind: 'dir' });
    expect(colon.toString()).toBe('0015:x::y 你好:0:2:');
    expect(colon.length).toBe(0x15);
    const long = dirHeader({ name: 'n'.repeat(70000), size: 1, kind: 'file' });
    expect(parseInt(long.toString('latin1', 0, long.indexOf(0x3a)), 16)).toBe(long.length);
  });

  const stream = Buffer.concat([
    dirHeader({ name: 'top', size: 0, kind: 'dir', mtime: 7 }),
    dirHeader({ name: 'a.txt', size: 5, kind: 'file' }),
    Buffer.from('HELLO'),
    dirHeader({ name: 'sub', size: 0, kind: 'dir' }),
    dirHeader({ name: 'empty', size: 0, kind: 'file' }),
    dirHeader({ name: '.', size: 0, kind: 'up' }),
    dirHeader({ name: '.', size: 0, kind: 'up' }),
  ]);
  const expected: DirStreamItem[] = [
    { type: 'dir', name: 'top', mtime: 7 },
    { type: 'file', name: 'a.txt', size: 5 },
    { type: 'data', bytes: Buffer.from('HELLO') },
    { type: 'file-end' },
    { type: 'dir', name: 'sub' },
    { type: 'file', name: 'empty', size: 0 },
    { type: 'file-end' },
    { type: 'up' },
    { type: 'up' },
    { type: 'end' },
  ];
  /** Joins consecutive data items, so results from any chunking compare equal. */
  const merged = (items: DirStreamItem[]): DirStreamItem[] =>
    items.reduce<DirStreamItem[]>((acc, it) => {
      const last = acc[acc.length - 1];
      if (it.type === 'data' && last?.type === 'data') acc[acc.length - 1] = { type: 'data', bytes: Buffer.concat([last.bytes, it.bytes]) };
      else acc.push(it);
      return acc;
    }, []);

  it('decodes a nested stream whole, and cut anywhere into chunks', () => {
    const d = new DirStreamDecoder();
    expect(d.push(Buffer.concat([stream, Buffer.from('ignored after the end')]))).toEqual(expected);
    expect(d.state).toBe('done');
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 8 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const dec = new DirStreamDecoder();
        const items = at.slice(1).flatMap((end, i) => dec.push(stream.subarray(at[i], end)));
        expect(merged(items)).toEqual(expected);
      }),
    );
  });

  it('fails on malformed headers, RETPARENT at the top, and nesting past the limit; never throws', () => {
    const fails = (bytes: Buffer): string | undefined => {
      const items = new DirStreamDecoder().push(bytes);
      const last = items[items.length - 1];
      return last?.type === 'error' ? last.reason : undefined;
    };
    expect(fails(Buffer.from('zz:a:0:1:'))).toBe('bad header size');
    expect(fails(Buffer.from('123456789:'))).toBe('bad header size');
    expect(fails(Buffer.from('0003:a:0:1:'))).toBe('bad header size');
    expect(fails(Buffer.from('000a:a:0:1X'))).toBe('header does not end with ":"');
    expect(fails(Buffer.from('000b:a:q:1:'))).toBe('bad header fields');
    expect(fails(dirHeader({ name: '.', size: 0, kind: 'up' }))).toBe('RETPARENT outside a folder');
    const deep = Buffer.concat(Array.from({ length: MAX_DIR_DEPTH + 1 }, () => dirHeader({ name: 'd', size: 0, kind: 'dir' })));
    expect(fails(deep)).toBe(`folders nested deeper than ${MAX_DIR_DEPTH}`);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void new DirStreamDecoder().push(Buffer.from(b))));
  });
});

describe('names from the network', () => {
  it('never a separator, a control character, "." or "..", nor more than the byte limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '.', '/', '\\', '\0', '\n', '\x1b', '\u202e', '\x85', 'é', '你', '😀', ' ') , maxLength: 300 }), (raw) => {
        const { name, changed } = safeFileName(raw);
        expect(name).not.toMatch(/[/\\\x00-\x1f\x7f-\x9f\u202e]/);
        expect(name).not.toBe('.');
        expect(name).not.toBe('..');
        expect(name.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
        expect(changed).toBe(name !== raw);
        expect(isSafeFileName(name)).toBe(true);
        expect(Buffer.byteLength(numberedName(name, 12))).toBeLessThanOrEqual(MAX_NAME_BYTES);
      }),
    );
  });

  it('examples', () => {
    expect(safeFileName('../etc/passwd')).toEqual({ name: '.._etc_passwd', changed: true });
    expect(safeFileName('..')).toEqual({ name: '_', changed: true });
    expect(safeFileName('a\\b\r\n.txt')).toEqual({ name: 'a_b__.txt', changed: true });
    expect(safeFileName('報告 ü.pdf')).toEqual({ name: '報告 ü.pdf', changed: false });
    expect(safeFileName('x'.repeat(300) + '.tar.gz').name).toBe('x'.repeat(MAX_NAME_BYTES - 3) + '.gz');
    expect(numberedName('report.pdf', 1)).toBe('report (1).pdf');
    expect(numberedName('photos', 2)).toBe('photos (2)');
    expect(numberedName('.bashrc', 1)).toBe('.bashrc (1)');
  });
});

describe('OfferTable', () => {
  const files = [
    { ...file(0, 'a.bin', 10), path: '/srv/a.bin' },
    { ...file(1, 'photos', 0, 'dir'), path: '/srv/photos' },
  ];

  it('finds an offered file only for the address it was offered to, the right id and kind', () => {
    const t = new OfferTable();
    const o = t.offer({ packetNo: 77, address: '10.0.0.2', to: 'bob', files });
    const req = { kind: 'file' as const, packetNo: 77, fileId: 0, offset: 0 };
    expect(t.find('10.0.0.2', req)?.file.path).toBe('/srv/a.bin');
    expect(t.find('10.0.0.3', req)).toBeUndefined();
    expect(t.find('10.0.0.2', { ...req, packetNo: 78 })).toBeUndefined();
    expect(t.find('10.0.0.2', { ...req, fileId: 2 })).toBeUndefined();
    expect(t.find('10.0.0.2', { ...req, kind: 'dir' })).toBeUndefined();
    expect(t.find('10.0.0.2', { ...req, kind: 'dir', fileId: 1 })?.file.name).toBe('photos');
    t.fetched(o, 0);
    expect(t.find('10.0.0.2', req)).toBeUndefined();
    expect(t.open).toBe(1);
    t.fetched(o, 1);
    expect(t.open).toBe(0);
  });

  it('release and cancel end an offer; numbers are shared both ways; the oldest goes past the limit', () => {
    const t = new OfferTable({ maxOffers: 2 });
    const a = t.offer({ packetNo: 1, address: '10.0.0.2', to: 'bob', files });
    const b = t.received({ packetNo: 9, address: '10.0.0.3', port: 2425, from: 'carol', files });
    expect([a.id, b.id]).toEqual([1, 2]);
    expect(t.release('10.0.0.3', 1)).toBeUndefined();
    expect(t.release('10.0.0.2', 1)?.id).toBe(1);
    expect(t.cancel(2)).toBe(b);
    expect(t.incoming(2)).toBeUndefined();
    const [x, y, z] = [1, 2, 3].map((n) => t.offer({ packetNo: n, address: 'h', to: 't', files }));
    expect(t.outgoing(x!.id)).toBeUndefined();
    expect(t.outgoing(y!.id)).toBe(y);
    expect(t.outgoing(z!.id)).toBe(z);
  });
});

describe('IpmsgSession and files', () => {
  const peerAt = { address: '10.0.0.2', port: 2425 };
  const session = (): IpmsgSession => new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 100, broadcast: [] });
  const packet = (no: number, command: number, extra: string): Buffer => Buffer.from(`1:${no}:bob:pc2:${command}:${extra}`);

  it('a SENDMSG with FILEATTACHOPT is an offer (and a message only when it has text); RELEASEFILES a release', () => {
    const s = session();
    s.handleDatagram(packet(7, 0x20 | 0x100 | 0x200000, '\0' + encodeAttachments([file(0, 'a:b', 3)])), peerAt, 0);
    s.handleDatagram(packet(8, 0x20 | 0x200000, 'see attached\0' + encodeAttachments([file(1, 'c', 4)])), peerAt, 0);
    s.handleDatagram(packet(9, 0x61, '123\0'), peerAt, 0);
    const events = s.pollEvents().filter((e) => e.type !== 'join');
    expect(events.map((e) => [e.type, 'packetNo' in e ? e.packetNo : undefined, 'files' in e ? e.files.map((f) => f.name) : 'text' in e ? e.text : undefined])).toEqual([
      ['offer', 7, ['a:b']],
      ['message', 8, 'see attached'],
      ['offer', 8, ['c']],
      ['release', 123, undefined],
    ]);
  });

  it('sendFiles sends one SENDMSG with FILEATTACHOPT and a receipt asked; RELEASEFILES names the offer in decimal', () => {
    const s = session();
    s.handleDatagram(packet(7, 0x01, 'Bob\0'), peerAt, 0);
    const bob = s.peers()[0]!;
    const { packetNo, datagrams } = s.sendFiles('', bob, encodeAttachments([file(0, 'x', 1)]), 0);
    expect(datagrams).toHaveLength(1);
    const p = decodeIpmsgPacket(datagrams[0]!.data)!;
    expect(p.packetNo).toBe(packetNo);
    expect(p.command & 0xff).toBe(0x20);
    expect(p.command & 0x200000).toBe(0x200000);
    expect(p.command & 0x100).toBe(0x100);
    expect(p.extra).toBe('\x000:x:1:65f0c3a1:1:\x07');
    expect(s.pending).toBe(1);
    expect(decodeIpmsgPacket(s.releaseFiles(peerAt, 4660)[0]!.data)).toMatchObject({ command: 0x800061, extra: '4660' });
    expect(() => s.sendFiles('', bob, 'x'.repeat(9000), 0)).toThrow(expect.objectContaining({ code: 'UDPKIT_MESSAGE_TOO_LARGE' }));
  });
});
