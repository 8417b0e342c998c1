import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  IpmsgCommand,
  IpmsgOption,
  confirmedPacketNo,
  decodeIpmsgPacket,
  encodeIpmsgPacket,
  entryExtra,
  ipmsgCommandOf,
  messageText,
  parseEntryExtra,
  validateLegacyEncoding,
} from '../../src/protocol/ipmsg-packet.js';
import { thrown } from '../helpers/thrown.js';

const UTF8 = IpmsgOption.UTF8OPT;

describe('IPMsg packets', () => {
  it('encodes as UTF-8 text with UTF8OPT added, and decodes back', () => {
    const data = encodeIpmsgPacket({ packetNo: 1712345678, user: 'alice', host: 'pc1', command: IpmsgCommand.SENDMSG | IpmsgOption.SENDCHECKOPT, extra: 'héllo 你好 🎉\0' });
    expect(data.toString('utf8')).toBe(`1:1712345678:alice:pc1:${0x20 | 0x100 | UTF8}:héllo 你好 🎉\0`);
    expect(decodeIpmsgPacket(data)).toEqual({
      version: '1',
      packetNo: 1712345678,
      user: 'alice',
      host: 'pc1',
      command: 0x20 | 0x100 | UTF8,
      extra: 'héllo 你好 🎉\0',
      encoding: 'utf-8',
    });
  });

  it('splits at the first five colons only: Extra keeps its colons', () => {
    const p = decodeIpmsgPacket(Buffer.from(`1:5:bob:pc2:${IpmsgCommand.BR_ENTRY | UTF8}:Dr: Who::\0team:a`));
    expect(p?.extra).toBe('Dr: Who::\0team:a');
    expect(parseEntryExtra(p!.extra)).toEqual({ nickname: 'Dr: Who::', group: 'team:a' });
    const m = decodeIpmsgPacket(encodeIpmsgPacket({ packetNo: 9, user: 'u', host: 'h', command: 0x20, extra: 'a:b:c:d:e:f\0' }));
    expect(messageText(m!.extra)).toBe('a:b:c:d:e:f');
  });

  it('reads NUL-separated parts: nickname and group, message and what follows it', () => {
    expect(entryExtra('Alice', 'dev')).toBe('Alice\0dev');
    expect(parseEntryExtra('Alice\0dev\0')).toEqual({ nickname: 'Alice', group: 'dev' });
    expect(parseEntryExtra('Alice')).toEqual({ nickname: 'Alice', group: '' });
    expect(parseEntryExtra('')).toEqual({ nickname: '', group: '' });
    expect(messageText('hi\0file-attachment-info')).toBe('hi');
    expect(messageText('no terminator')).toBe('no terminator');
    expect(confirmedPacketNo('1712345678\0')).toBe(1712345678);
    expect(confirmedPacketNo('42')).toBe(42);
    expect(confirmedPacketNo('x42')).toBeUndefined();
  });

  it('reads packets without UTF8OPT in the legacy encoding: GBK by default, Shift_JIS when asked', () => {
    const gbk = Buffer.concat([Buffer.from('1:77:'), iconv.encode('张三', 'gbk'), Buffer.from(':pc:32:'), iconv.encode('你好，世界', 'gbk'), Buffer.from([0])]);
    const p = decodeIpmsgPacket(gbk);
    expect(p).toMatchObject({ user: '张三', command: 32, extra: '你好，世界\0' });
    const sjis = Buffer.concat([Buffer.from('1:78:taro:pc:1:'), iconv.encode('山田', 'shift_jis'), Buffer.from([0]), iconv.encode('開発', 'shift_jis')]);
    expect(parseEntryExtra(decodeIpmsgPacket(sjis, 'shift_jis')!.extra)).toEqual({ nickname: '山田', group: '開発' });
    expect(decodeIpmsgPacket(Buffer.from('1:79:u:h:32:caf\xe9\0', 'latin1'), 'latin1')?.extra).toBe('café\0');
    // With UTF8OPT the same GBK bytes are not UTF-8: replacement characters, no exception.
    const mislabelled = Buffer.concat([Buffer.from(`1:80:u:h:${32 | UTF8}:`), iconv.encode('你好', 'gbk')]);
    expect(decodeIpmsgPacket(mislabelled)?.extra).toContain('\ufffd');
  });

  it('accepts a clone\'s long version, an empty Extra and a missing fifth colon', () => {
    expect(decodeIpmsgPacket(Buffer.from('1_lbt6_0#128#000C29:1:u:h:1:n\0'))?.version).toBe('1_lbt6_0#128#000C29');
    expect(decodeIpmsgPacket(Buffer.from('1:2:u:h:2:'))?.extra).toBe('');
    expect(decodeIpmsgPacket(Buffer.from('1:2:u:h:2'))).toMatchObject({ command: 2, extra: '' });
    expect(ipmsgCommandOf(0x800120)).toBe(0x20);
  });

  it('returns undefined for what is not a packet', () => {
    for (const text of ['', 'hello', '1:2:3', '2:1:u:h:1:', '1:x:u:h:1:', '1:1:u:h:0x20:', '1:1:u:h:4294967296:', '1::u:h:1:', '1:99999999999999999:u:h:1:', 'UK\x01D']) {
      expect(decodeIpmsgPacket(Buffer.from(text, 'latin1')), text).toBeUndefined();
    }
  });

  it('never throws, whatever the bytes', () => {
    const ipmsgish = fc
      .tuple(fc.constantFrom('1', '1_x', '2', ''), fc.string(), fc.string(), fc.string(), fc.oneof(fc.nat().map(String), fc.string()), fc.uint8Array())
      .map(([v, n, u, h, c, e]) => Buffer.concat([Buffer.from(`${v}:${n}:${u}:${h}:${c}:`), e]));
    for (const encoding of ['gbk', 'shift_jis', 'latin1']) {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), ipmsgish), (bytes) => {
          const p = decodeIpmsgPacket(bytes, encoding);
          if (p !== undefined) {
            messageText(p.extra);
            parseEntryExtra(p.extra);
            confirmedPacketNo(p.extra);
          }
        }),
        { numRuns: 500 },
      );
    }
  });

  it('round-trips any fields it accepts', () => {
    const field = fc.string().filter((s) => !/[:\0]/.test(s));
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 31 }), field, field, fc.nat({ max: 0xffffffff }), fc.string({ unit: 'grapheme' }), (packetNo, user, host, command, extra) => {
        const p = decodeIpmsgPacket(encodeIpmsgPacket({ packetNo, user, host, command, extra }));
        expect(p).toMatchObject({ version: '1', packetNo, user, host, command: (command | UTF8) >>> 0, extra, encoding: 'utf-8' });
      }),
    );
  });

  it('refuses fields that would break the packet', () => {
    expect(thrown(() => encodeIpmsgPacket({ packetNo: 1, user: 'a:b', host: 'h', command: 1, extra: '' }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', name: 'UdpkitTypeError' });
    expect(thrown(() => encodeIpmsgPacket({ packetNo: -1, user: 'a', host: 'h', command: 1, extra: '' }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', name: 'UdpkitRangeError' });
    expect(thrown(() => encodeIpmsgPacket({ packetNo: 1, user: 'a', host: 'h', command: 2 ** 32, extra: '' }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(validateLegacyEncoding('cp932')).toBe('cp932');
    expect(thrown(() => validateLegacyEncoding('klingon'))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', name: 'UdpkitRangeError' });
  });
});
