import { describe, expect, it } from 'vitest';
import { parseChatLine } from '../../src/cli/chat-input.js';
import { chatEventJson, formatChatEvent, formatChatSummary, formatPeerList, peersJson } from '../../src/format/chat.js';
import { listInterfaces } from '../../src/net/interfaces.js';
import { findPeers, type IpmsgPeer } from '../../src/protocol/ipmsg-peers.js';
import { chatAnnouncement } from '../../src/transport/chat-announce.js';
import { fakeNetOs, loadSnapshot } from '../helpers/fake-net-os.js';

const peer = (name: string, host = 2, extra: Partial<IpmsgPeer> = {}): IpmsgPeer => ({
  key: `10.0.0.${host}:2425`,
  name,
  user: 'u',
  host: 'pc',
  group: '',
  away: false,
  encoding: '',
  utf8: true,
  address: `10.0.0.${host}`,
  port: 2425,
  lastSeen: 0,
  verified: false,
  ...extra,
});

describe('chat input lines', () => {
  it('tells text from commands', () => {
    expect(parseChatLine('hello: world')).toEqual({ kind: 'say', text: 'hello: world' });
    expect(parseChatLine('//etc/passwd is a path')).toEqual({ kind: 'say', text: '/etc/passwd is a path' });
    expect(parseChatLine('/who')).toEqual({ kind: 'who' });
    expect(parseChatLine('/WHO\r')).toEqual({ kind: 'who' });
    expect(parseChatLine('/quit')).toEqual({ kind: 'quit' });
    expect(parseChatLine('/help')).toEqual({ kind: 'help' });
    expect(parseChatLine('   ')).toEqual({ kind: 'none' });
    expect(parseChatLine('/msg bob  hi  there ')).toEqual({ kind: 'msg', to: 'bob', text: 'hi  there ', sealed: false });
    expect(parseChatLine('/msg "Bob Smith" hi')).toEqual({ kind: 'msg', to: 'Bob Smith', text: 'hi', sealed: false });
    expect(parseChatLine('/msg 10.0.0.2:2425 hi')).toEqual({ kind: 'msg', to: '10.0.0.2:2425', text: 'hi', sealed: false });
    expect(parseChatLine('/msg bob')).toEqual({ kind: 'error', message: 'usage: /msg NAME TEXT' });
    expect(parseChatLine('/dance')).toEqual({ kind: 'error', message: 'unknown command /dance (try /help)' });
    expect(parseChatLine('/seal "Bob Smith" the key')).toEqual({ kind: 'msg', to: 'Bob Smith', text: 'the key', sealed: true });
    expect(parseChatLine('/seal bob')).toEqual({ kind: 'error', message: 'usage: /seal NAME TEXT' });
    expect(parseChatLine('/away  at lunch ')).toEqual({ kind: 'away', text: 'at lunch' });
    expect(parseChatLine('/away')).toEqual({ kind: 'away', text: '' });
    expect(parseChatLine('/back')).toEqual({ kind: 'back' });
    expect(parseChatLine('/open 3')).toEqual({ kind: 'open', id: 3 });
    expect(parseChatLine('/open')).toEqual({ kind: 'open', id: undefined });
    expect(parseChatLine('/open x')).toEqual({ kind: 'error', message: 'usage: /open [N] (N: the number shown with the sealed message)' });
    expect(parseChatLine('/info bob')).toEqual({ kind: 'info', to: 'bob' });
  });

  it('finds peers by name, then ignoring case, then by address', () => {
    const peers = [peer('Bob', 2), peer('bob', 3), peer('Carol', 4)];
    expect(findPeers(peers, 'Bob').map((p) => p.address)).toEqual(['10.0.0.2']);
    expect(findPeers(peers, 'BOB').map((p) => p.address)).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(findPeers(peers, '10.0.0.4').map((p) => p.name)).toEqual(['Carol']);
    expect(findPeers(peers, '10.0.0.4:2425').map((p) => p.name)).toEqual(['Carol']);
    expect(findPeers(peers, 'dave')).toEqual([]);
  });
});

describe('chat output', () => {
  it('writes the JSON events of the CLI contract, text raw', () => {
    const bob = peer('Bob');
    const p = { name: 'Bob', user: 'u', host: 'pc', address: '10.0.0.2', group: '', away: false };
    expect(JSON.parse(chatEventJson({ type: 'join', peer: bob }))).toEqual({ event: 'join', peer: p });
    expect(JSON.parse(chatEventJson({ type: 'leave', peer: bob, reason: 'silent' }))).toEqual({ event: 'leave', peer: p, reason: 'silent' });
    expect(JSON.parse(chatEventJson({ type: 'leave', peer: bob, reason: 'evicted' }))).toEqual({ event: 'leave', peer: p, reason: 'evicted' });
    expect(JSON.parse(chatEventJson({ type: 'message', from: bob, text: 'a\x1bb\n', direct: false, packetNo: 3, auto: false, sealed: false }))).toEqual({ event: 'message', from: p, text: 'a\x1bb\n', direct: false });
    expect(chatEventJson({ type: 'delivered', to: bob, packetNo: 7 })).toBe('{"event":"delivered","to":"Bob","packet":7}');
    expect(chatEventJson({ type: 'undelivered', to: bob, packetNo: 7 })).toBe('{"event":"undelivered","to":"Bob","packet":7}');
    expect(peersJson([bob])).toBe(`{"event":"peers","peers":[${JSON.stringify(p)}]}`);
  });

  it('shows people one safe line per event', () => {
    const evil = peer('Ev\x1b[31mil', 6, { user: 'r\noot' });
    expect(formatChatEvent({ type: 'join', peer: evil }, '12:00:00')).toBe('[12:00:00] * Ev\\x1b[31mil joined (r\\noot@pc, 10.0.0.6:2425)');
    expect(formatChatEvent({ type: 'message', from: evil, text: 'hi\x07\u202e', direct: true, packetNo: 1, auto: false, sealed: false }, '12:00:01')).toBe('[12:00:01] <Ev\\x1b[31mil> (to you) hi\\x07\\u202e');
    expect(formatChatEvent({ type: 'message', from: peer('Bob'), text: '你好', direct: false, packetNo: 1, auto: false, sealed: false }, 't')).toBe('[t] <Bob> 你好');
    expect(formatChatEvent({ type: 'leave', peer: peer('Bob'), reason: 'exit' }, 't')).toBe('[t] * Bob left');
    expect(formatChatEvent({ type: 'leave', peer: peer('Bob'), reason: 'silent' }, 't')).toBe('[t] * Bob stopped answering and was dropped');
    expect(formatChatEvent({ type: 'leave', peer: peer('Bob'), reason: 'evicted' }, 't')).toBe('[t] * Bob was dropped to make room: it never answered');
    expect(formatChatEvent({ type: 'undelivered', to: peer('Bob'), packetNo: 1 }, 't')).toBe('[t] * NOT delivered to Bob: no receipt came');
    // Two peers with one name: the address tells them apart.
    const twins = [peer('Bob', 2), peer('Bob', 3)];
    expect(formatChatEvent({ type: 'delivered', to: twins[1]!, packetNo: 1 }, 't', twins)).toBe('[t] * Bob (10.0.0.3:2425) received your message');
    const bob = peer('Bob');
    expect(formatChatEvent({ type: 'sealed', from: bob, id: 2, packetNo: 9 }, 't')).toBe('[t] * sealed message 2 from Bob: /open 2 to read it');
    expect(formatChatEvent({ type: 'message', from: bob, text: 'psst', direct: true, packetNo: 9, auto: false, sealed: true }, 't')).toBe('[t] <Bob> (to you) (sealed) psst');
    expect(formatChatEvent({ type: 'message', from: bob, text: 'out\x1b', direct: true, packetNo: 9, auto: true, sealed: false }, 't')).toBe('[t] <Bob> (to you) (auto-reply) out\\x1b');
    expect(formatChatEvent({ type: 'read', by: bob, packetNo: 9 }, 't')).toBe('[t] * Bob opened your sealed message');
    expect(formatChatEvent({ type: 'absence', peer: bob, away: true }, 't')).toBe('[t] * Bob is away');
    expect(formatChatEvent({ type: 'info', from: bob, kind: 'version', text: 'IPMsg 5' }, 't')).toBe('[t] * Bob runs IPMsg 5');
    expect(JSON.parse(chatEventJson({ type: 'sealed', from: bob, id: 2, packetNo: 9 }))).toEqual({ event: 'sealed', from: expect.objectContaining({ name: 'Bob' }), id: 2, packet: 9 });
    expect(JSON.parse(chatEventJson({ type: 'message', from: bob, text: 'x', direct: true, packetNo: 9, auto: true, sealed: true }))).toMatchObject({ auto: true, sealed: true });
    expect(formatPeerList([peer('Bob', 2, { group: 'dev', away: true })])).toEqual(['1 peer:', '  Bob  u@pc  10.0.0.2:2425  group dev  (away)']);
    expect(formatPeerList([])).toEqual(['nobody else here yet']);
    expect(formatPeerList([peer('Bob', 2, { group: 'dev' })])).toEqual(['1 peer:', '  Bob  u@pc  10.0.0.2:2425  group dev']);
  });

  it('sums up on exit what came in and what the limits held back', () => {
    const stats = { packets: 1104, malformed: 2, own: 1, duplicates: 0, ignored: 3, evicted: 77, rateLimited: 700, refused: 5, sendFailed: 0, autoReplies: 0, sealedRefused: 0, unanswered: 0 };
    expect(formatChatSummary(stats, 0, false)).toBe(
      'received 1107 datagrams: 1104 IPMsg packets, 2 not IPMsg, 1 our own; kernel dropped 0; peers evicted 77, ignored 3; rate-limited sends 700',
    );
    expect(formatChatSummary({ ...stats, sendFailed: 4 }, undefined, true)).toBe(
      'received 1112 datagrams: 1104 IPMsg packets, 2 not IPMsg, 1 our own, 5 refused (not sealed with the key); kernel dropped n/a; peers evicted 77, ignored 3; rate-limited sends 700; sends failed 4',
    );
  });
});

describe('where chat announces itself', () => {
  it('to each directed broadcast address and chosen peers; a broadcast reaches its subnet on its port', async () => {
    const laptop = await listInterfaces(fakeNetOs(loadSnapshot('laptop')));
    const { targets, reach } = chatAnnouncement({ announceTo: [{ address: '172.16.0.9', port: 2426 }, { address: '10.0.0.255', port: 2425 }] }, 2425, laptop);
    expect(targets).toEqual([
      { address: '10.0.0.255', port: 2425 },
      { address: '192.168.50.255', port: 2425 },
      { address: '192.168.1.255', port: 2425 },
      { address: '172.16.0.9', port: 2426 },
    ]);
    expect(reach({ address: '10.0.0.77', port: 2425 })).toBe(true);
    expect(reach({ address: '192.168.1.4', port: 2425 })).toBe(true);
    expect(reach({ address: '10.0.0.77', port: 2426 })).toBe(false);
    expect(reach({ address: '10.0.1.77', port: 2425 })).toBe(false);
    expect(reach({ address: '172.16.0.9', port: 2426 })).toBe(true);
    // No broadcast at all (--no-broadcast): only the chosen peers.
    const none = chatAnnouncement({}, 2425, undefined);
    expect(none.targets).toEqual([]);
    expect(none.reach({ address: '10.0.0.77', port: 2425 })).toBe(false);
  });
});
