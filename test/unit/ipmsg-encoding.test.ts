import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { canonicalEncoding, chooseEncoding, declaredEncoding, encodeLegacy } from '../../src/protocol/ipmsg-encoding.js';
import { IpmsgCommand, IpmsgOption, decodeIpmsgPacket, encodeIpmsgPacket, parseEntryExtra } from '../../src/protocol/ipmsg-packet.js';
import { IpmsgSession, type IpmsgEndpoint } from '../../src/protocol/ipmsg-session.js';

const bytes = (...parts: Array<string | Buffer>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
const TUX = '企鹅tüx';
const at = (host: number): IpmsgEndpoint => ({ address: `10.0.0.${host}`, port: 2425 });

describe('IPMsg text encodings', () => {
  it('finds an encoding named as the last part of an entry, after nickname and group only', () => {
    expect(declaredEncoding(bytes(TUX, '\0', 'dev', '\0', 'icon.png', '\0', 'utf-8'))).toBe('utf-8');
    expect(declaredEncoding(bytes('tux\0\0icon.png\0UTF8\0\0'))).toBe('utf-8');
    expect(declaredEncoding(bytes('tux\0\0GBK'))).toBe('gbk');
    // A group that happens to be an encoding's name is a group.
    expect(declaredEncoding(bytes('tux\0big5'))).toBeUndefined();
    expect(declaredEncoding(bytes('tux'))).toBeUndefined();
    // IP Messenger 3's UTF-8 entry extension and unknown names are not encodings.
    expect(declaredEncoding(bytes('tux\0dev\0\nUN:tux\nHN:pc\n'))).toBeUndefined();
    expect(declaredEncoding(bytes('tux\0dev\0klingon'))).toBeUndefined();
    expect(canonicalEncoding('Shift_JIS')).toBe('shift_jis');
    expect(canonicalEncoding('utf 8')).toBeUndefined();
  });

  it('chooses UTF8OPT, then a declared encoding, then valid UTF-8, then the legacy encoding', () => {
    const gbk = iconv.encode('你好', 'gbk');
    const utf8 = Buffer.from('héllo 你好');
    expect(chooseEncoding(gbk, { flagged: true, legacy: 'gbk' })).toBe('utf-8');
    expect(chooseEncoding(utf8, { flagged: false, declared: 'cp932', legacy: 'gbk' })).toBe('cp932');
    expect(chooseEncoding(utf8, { flagged: false, legacy: 'gbk' })).toBe('utf-8');
    expect(chooseEncoding(gbk, { flagged: false, legacy: 'gbk' })).toBe('gbk');
    expect(chooseEncoding(Buffer.from('plain'), { flagged: false, legacy: 'cp932' })).toBe('utf-8');
  });

  it('reads the Linux client\'s entry (UTF-8, no UTF8OPT, `\\0utf-8` at the end) and its message right', () => {
    // Exactly what the client sends: no UTF8OPT (0x800000) and no CAPUTF8OPT in 1 or 32.
    const entry = bytes(`1:500:${TUX}:pc9:1:`, TUX, '\0\0icon.png\0utf-8');
    const p = decodeIpmsgPacket(entry);
    expect(p).toEqual({ version: '1', packetNo: 500, user: TUX, host: 'pc9', command: 1, extra: `${TUX}\0\0icon.png\0utf-8`, encoding: 'utf-8', declaredEncoding: 'utf-8' });
    expect(parseEntryExtra(p!.extra)).toEqual({ nickname: TUX, group: '' });
    // Before the fix, GBK: the nickname turned into this.
    expect(iconv.decode(Buffer.from(TUX), 'gbk')).toBe('浼侀箙t眉x');
    // The message, and one that happens to be invalid UTF-8 once the peer declared UTF-8: still UTF-8.
    expect(decodeIpmsgPacket(bytes(`1:501:${TUX}:pc9:288:`, 'héllo 你好\0'))?.extra).toBe('héllo 你好\0');
    expect(decodeIpmsgPacket(bytes('1:502:t:pc9:32:', Buffer.from([0xe4, 0xbd]), '\0'), 'gbk', 'utf-8')).toMatchObject({ encoding: 'utf-8', extra: '\ufffd\0' });
  });

  it('writes text in a legacy encoding without UTF8OPT, and as UTF-8 when that encoding cannot hold it', () => {
    const gbk = encodeIpmsgPacket({ packetNo: 7, user: 'alice', host: 'pc1', command: 0x20 | 0x100, extra: '你好\0' }, 'gbk');
    expect(gbk).toEqual(bytes('1:7:alice:pc1:288:', Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x00])));
    const emoji = encodeIpmsgPacket({ packetNo: 8, user: 'alice', host: 'pc1', command: 0x20, extra: '你好 🎉\0' }, 'gbk');
    expect(emoji.toString('utf8')).toBe(`1:8:alice:pc1:${0x20 | IpmsgOption.UTF8OPT}:你好 🎉\0`);
    expect(encodeLegacy('🎉', 'gbk')).toBeUndefined();
  });

  it('a session remembers each peer\'s encoding: declared, or seen; answers a legacy peer in its encoding', () => {
    const s = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 100, broadcast: [] });
    s.handleDatagram(bytes(`1:1:${TUX}:pc9:1:`, TUX, '\0\0icon.png\0utf-8'), at(9), 0);
    s.handleDatagram(Buffer.concat([Buffer.from('1:1:zhang:pc8:1:'), iconv.encode('张三', 'gbk'), Buffer.from('\0')]), at(8), 0);
    s.handleDatagram(Buffer.from(`1:1:bob:pc2:${IpmsgCommand.BR_ENTRY | IpmsgOption.CAPUTF8OPT}:Bob\0`), at(2), 0);
    const [tux, zhang, bob] = s.peers();
    expect([tux, zhang, bob].map((p) => [p!.name, p!.encoding, p!.utf8])).toEqual([
      [TUX, 'utf-8', false],
      ['张三', 'gbk', false],
      ['Bob', '', true],
    ]);
    // A later message from the Linux client that is not valid UTF-8 is still read as it declared.
    s.pollEvents();
    s.handleDatagram(bytes(`1:2:${TUX}:pc9:32:`, 'ok ', Buffer.from([0xff]), '\0'), at(9), 1);
    expect(s.pollEvents()).toMatchObject([{ type: 'message', text: 'ok \ufffd' }]);
    // Packets 100-102 were the three ANSENTRYs.
    const out = s.send('你好', [tux!, zhang!, bob!], 2);
    expect(out.map((d) => d.data)).toEqual([
      Buffer.from(`1:103:alice:pc1:${0x120 | IpmsgOption.UTF8OPT}:你好\0`),
      bytes('1:104:alice:pc1:288:', Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x00])),
      Buffer.from(`1:105:alice:pc1:${0x120 | IpmsgOption.UTF8OPT}:你好\0`),
    ]);
  });

  it('decodes each peer in the encoding it declared: CP932 and GB18030 beside the GBK default', () => {
    const s = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 100, broadcast: [] });
    // 山田 in CP932 would be mojibake as GBK; 𠮷 exists in GB18030 (4 bytes) and not in GBK.
    s.handleDatagram(bytes('1:1:taro:pc5:1:', iconv.encode('山田\0開発\0\0cp932', 'cp932')), at(5), 0);
    s.handleDatagram(bytes('1:1:ji:pc6:1:', iconv.encode('𠮷野\0\0\0gb18030', 'gb18030')), at(6), 0);
    expect(iconv.encode('𠮷', 'gb18030')).toHaveLength(4);
    s.handleDatagram(bytes('1:2:taro:pc5:32:', iconv.encode('こんにちは\0', 'cp932')), at(5), 1);
    s.handleDatagram(bytes('1:2:ji:pc6:32:', iconv.encode('𠮷日\0', 'gb18030')), at(6), 1);
    expect(s.peers().map((p) => [p.name, p.group, p.encoding])).toEqual([
      ['山田', '開発', 'cp932'],
      ['𠮷野', '', 'gb18030'],
    ]);
    expect(s.pollEvents().filter((e) => e.type === 'message').map((e) => (e.type === 'message' ? e.text : ''))).toEqual(['こんにちは', '𠮷日']);
  });

  it('parses FeiQ packets: the long version field, GBK names and text, commands it made up; answers in GBK', () => {
    const s = new IpmsgSession({ nickname: '小明', user: 'alice', host: 'pc1', firstPacketNo: 100, broadcast: [] });
    const version = '1_lbt6_0#128#001122AABBCC#0#0#0#4001#9';
    const entry = Buffer.concat([Buffer.from(`${version}:1700000000:`), iconv.encode('王五', 'gbk'), Buffer.from(':WANG-PC:6291457:'), iconv.encode('王五\0研发部', 'gbk'), Buffer.from('\0')]);
    const answers = s.handleDatagram(entry, at(7), 0);
    expect(s.peers()[0]).toMatchObject({ name: '王五', user: '王五', host: 'WANG-PC', group: '研发部', encoding: 'gbk', utf8: false });
    // Its ANSENTRY in GBK, without UTF8OPT (CAPUTF8OPT still says we read UTF-8).
    expect(answers.map((d) => d.data)).toEqual([bytes(`1:100:alice:pc1:${IpmsgCommand.ANSENTRY | IpmsgOption.CAPUTF8OPT}:`, Buffer.from([0xd0, 0xa1, 0xc3, 0xf7, 0]))]);
    expect(iconv.encode('小明', 'gbk')).toEqual(Buffer.from([0xd0, 0xa1, 0xc3, 0xf7]));
    // A command of FeiQ's own (0x79) is understood as a packet and left unanswered.
    expect(s.handleDatagram(Buffer.from(`${version}:1700000001:x:WANG-PC:121:typing`), at(7), 1)).toEqual([]);
    expect(s.stats).toMatchObject({ packets: 2, malformed: 0, unanswered: 1 });
  });
});
