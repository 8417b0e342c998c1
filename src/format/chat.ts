/**
 * How `udpkit chat` shows what happens: one JSON object per event for scripts (the text as it
 * came: JSON escaping makes it safe), or one line per event for people, where everything that
 * came from the network is made safe for the terminal with {@link sanitizeText}.
 */
import type { IpmsgEvent, IpmsgPeer, IpmsgStats } from '../protocol/ipmsg-session.js';
import { sanitizeText } from './sanitize.js';
import { quantity } from './quantity.js';

/** A peer as `--json` shows it. */
export interface ChatPeerJson {
  readonly name: string;
  readonly user: string;
  readonly host: string;
  readonly address: string;
  /** Its group; empty when it announced none. */
  readonly group: string;
  /** It said it is away. */
  readonly away: boolean;
}

/** The fields of a peer that `--json` shows. @example peerJson(peer) // { name: 'Bob', user: 'bob', host: 'pc2', address: '10.0.0.2', group: '', away: false } */
export function peerJson(p: IpmsgPeer): ChatPeerJson {
  return { name: p.name, user: p.user, host: p.host, address: p.address, group: p.group, away: p.away };
}

/**
 * One event as one JSON line (without its newline).
 * @example chatEventJson({ type: 'delivered', to: peer, packetNo: 7 }) // '{"event":"delivered","to":"Bob","packet":7}'
 */
export function chatEventJson(e: IpmsgEvent): string {
  switch (e.type) {
    case 'join':
      return JSON.stringify({ event: e.type, peer: peerJson(e.peer) });
    case 'leave':
      return JSON.stringify({ event: e.type, peer: peerJson(e.peer), reason: e.reason });
    case 'message':
      // `auto` and `sealed` appear only when true, so that plain messages keep their shape.
      return JSON.stringify({ event: 'message', from: peerJson(e.from), text: e.text, direct: e.direct, ...(e.auto ? { auto: true } : {}), ...(e.sealed ? { sealed: true } : {}) });
    case 'delivered':
    case 'undelivered':
      return JSON.stringify({ event: e.type, to: e.to.name, packet: e.packetNo });
    case 'sealed':
      return JSON.stringify({ event: 'sealed', from: peerJson(e.from), id: e.id, packet: e.packetNo });
    case 'read':
      return JSON.stringify({ event: 'read', by: e.by.name, packet: e.packetNo });
    case 'absence':
      return JSON.stringify({ event: 'absence', peer: peerJson(e.peer), away: e.away });
    case 'info':
      return JSON.stringify({ event: 'info', from: peerJson(e.from), kind: e.kind, text: e.text });
    case 'offer': // the chat hands these to its file table, which shows them (chat-files.ts)
    case 'release':
      return JSON.stringify({ event: `ipmsg-${e.type}`, from: peerJson(e.from), packet: e.packetNo });
  }
}

/** The answer to `/who` as one JSON line. @example peersJson([]) // '{"event":"peers","peers":[]}' */
export function peersJson(peers: readonly IpmsgPeer[]): string {
  return JSON.stringify({ event: 'peers', peers: peers.map(peerJson) });
}

const safe = sanitizeText;

/** A peer's name for a person: escaped, and with its address when another peer has the same name. */
function who(p: IpmsgPeer, others: readonly IpmsgPeer[] = []): string {
  const twin = others.some((o) => o.key !== p.key && o.name === p.name);
  return twin ? `${safe(p.name)} (${p.key})` : safe(p.name);
}

const LEFT = {
  exit: 'left',
  silent: 'stopped answering and was dropped',
  evicted: 'was dropped to make room: it never answered',
} as const;

/**
 * One event as one terminal line, after the time `[HH:MM:SS]`.
 * @example formatChatEvent(e, '12:00:01') // '[12:00:01] <Bob> hello'
 */
export function formatChatEvent(e: IpmsgEvent, time: string, peers: readonly IpmsgPeer[] = []): string {
  const at = `[${time}]`;
  switch (e.type) {
    case 'join':
      return `${at} * ${who(e.peer, peers)} joined (${safe(e.peer.user)}@${safe(e.peer.host)}, ${e.peer.key})`;
    case 'leave':
      return `${at} * ${who(e.peer, peers)} ${LEFT[e.reason]}`;
    case 'message': {
      const marks = `${e.direct ? ' (to you)' : ''}${e.sealed ? ' (sealed)' : ''}${e.auto ? ' (auto-reply)' : ''}`;
      return `${at} <${who(e.from, peers)}>${marks} ${safe(e.text)}`;
    }
    case 'delivered':
      return `${at} * ${who(e.to, peers)} received your message`;
    case 'undelivered':
      return `${at} * NOT delivered to ${who(e.to, peers)}: no receipt came`;
    case 'sealed':
      return `${at} * sealed message ${e.id} from ${who(e.from, peers)}: /open ${e.id} to read it`;
    case 'read':
      return `${at} * ${who(e.by, peers)} opened your sealed message`;
    case 'absence':
      return `${at} * ${who(e.peer, peers)} is ${e.away ? 'away' : 'back'}`;
    case 'info':
      return `${at} * ${who(e.from, peers)} ${e.kind === 'version' ? 'runs' : 'is away:'} ${safe(e.text)}`;
    case 'offer':
    case 'release':
      return `${at} * ${who(e.from, peers)}: ${e.type === 'offer' ? 'offers files' : 'declined your files'} (packet ${e.packetNo})`;
  }
}

/**
 * The answer to `/who` for a person: one line per peer, or one saying there is nobody.
 * @example formatPeerList([]) // ['nobody else here yet']
 */
export function formatPeerList(peers: readonly IpmsgPeer[]): string[] {
  if (peers.length === 0) return ['nobody else here yet'];
  return [
    `${peers.length} ${peers.length === 1 ? 'peer' : 'peers'}:`,
    ...peers.map((p) => `  ${who(p, peers)}  ${safe(p.user)}@${safe(p.host)}  ${p.key}${p.group ? `  group ${safe(p.group)}` : ''}${p.away ? '  (away)' : ''}`),
  ];
}

/** The local time of `date` as `HH:MM:SS`. */
export function clockTime(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

/** What the chat counted, as {@link formatChatSummary} shows it. */
export interface ChatSummaryCounts extends IpmsgStats {
  /** Datagrams refused before reading (not sealed with the key). */
  readonly refused: number;
  readonly sendFailed: number;
}

/**
 * The line printed on exit: every datagram that came (understood, not IPMsg, our own, refused,
 * dropped by the kernel) and what the limits held back.
 * @example formatChatSummary(chat.stats, 0, false)
 * // 'received 1101 datagrams: 1101 IPMsg packets, 0 not IPMsg, 0 our own; kernel dropped 0; peers evicted 77, ignored 0; rate-limited sends 700'
 */
export function formatChatSummary(s: ChatSummaryCounts, kernelDrops: number | undefined, keyed: boolean): string {
  const total = s.packets + s.malformed + s.own + (keyed ? s.refused : 0);
  let line = `received ${quantity(total, 'datagram')}: ${quantity(s.packets, 'IPMsg packet')}, ${s.malformed} not IPMsg, ${s.own} our own`;
  if (keyed) line += `, ${s.refused} refused (not sealed with the key)`;
  line += `; kernel dropped ${kernelDrops ?? 'n/a'}; peers evicted ${s.evicted}, ignored ${s.ignored}; rate-limited sends ${s.rateLimited}`;
  if (s.sendFailed > 0) line += `; sends failed ${s.sendFailed}`;
  // Shown only when they happened, so that the usual line keeps its shape.
  if (s.autoReplies > 0) line += `; auto-replies ${s.autoReplies}`;
  if (s.sealedRefused > 0) line += `; sealed messages refused ${s.sealedRefused} (maxSealedBytes)`;
  if (s.unanswered > 0) line += `; unanswered commands ${s.unanswered}`;
  return line;
}
