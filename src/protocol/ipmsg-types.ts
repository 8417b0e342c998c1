/**
 * The types an IPMsg session (./ipmsg-session.ts) takes and gives: its options, the datagrams
 * it asks to send, its events and counters.
 */
import type { IpmsgAttachment } from './ipmsg-attach.js';
import type { IpmsgPeer } from './ipmsg-peers.js';
import type { PeerRateLimiterOptions } from './peer-rate-limiter.js';

export type { IpmsgPeer } from './ipmsg-peers.js';

/** Where a datagram goes or came from. */
export interface IpmsgEndpoint {
  readonly address: string;
  readonly port: number;
}

/** One datagram to send. */
export interface IpmsgDatagram extends IpmsgEndpoint {
  readonly data: Buffer;
}

/** What happened. `packetNo` is the packet number of the SENDMSG concerned. */
export type IpmsgEvent =
  | { readonly type: 'join'; readonly peer: IpmsgPeer }
  /**
   * `exit`: it said goodbye (BR_EXIT); `silent`: it stopped answering; `evicted`: it had never
   * answered and the table was full (see `maxPeers`).
   */
  | { readonly type: 'leave'; readonly peer: IpmsgPeer; readonly reason: 'exit' | 'silent' | 'evicted' }
  /**
   * `direct`: sent to this participant alone, not to everyone; `auto`: an absent peer's
   * automatic answer (AUTORETOPT); `sealed`: a sealed message, shown now because it was opened.
   */
  | { readonly type: 'message'; readonly from: IpmsgPeer; readonly text: string; readonly direct: boolean; readonly packetNo: number; readonly auto: boolean; readonly sealed: boolean }
  /** A sealed message came; its text is shown once opened ({@link IpmsgSession.open} `id`). */
  | { readonly type: 'sealed'; readonly from: IpmsgPeer; readonly id: number; readonly packetNo: number }
  /** `by` opened the sealed message we sent it as `packetNo` (its READMSG). */
  | { readonly type: 'read'; readonly by: IpmsgPeer; readonly packetNo: number }
  /** A known peer went away or came back (ABSENCEOPT on its entry packets). */
  | { readonly type: 'absence'; readonly peer: IpmsgPeer; readonly away: boolean }
  /** An answer to our GETINFO (`version`) or GETABSENCEINFO (`absence`). */
  | { readonly type: 'info'; readonly from: IpmsgPeer; readonly kind: 'version' | 'absence'; readonly text: string }
  | { readonly type: 'delivered'; readonly to: IpmsgPeer; readonly packetNo: number }
  | { readonly type: 'undelivered'; readonly to: IpmsgPeer; readonly packetNo: number }
  /** A SENDMSG with FILEATTACHOPT: files and folders `from` lets us fetch (ipmsg-attach.ts). */
  | { readonly type: 'offer'; readonly from: IpmsgPeer; readonly packetNo: number; readonly files: readonly IpmsgAttachment[] }
  /** RELEASEFILES: `from` will not fetch what our SENDMSG `packetNo` offered. */
  | { readonly type: 'release'; readonly from: IpmsgPeer; readonly packetNo: number };

/** Options of an `IpmsgSession`; times in ms. */
export interface IpmsgSessionOptions {
  /** The name others see (may hold colons, not NUL). */
  readonly nickname: string;
  /** The user name field of every packet (no colon, no NUL). */
  readonly user: string;
  /** The host name field of every packet (no colon, no NUL). */
  readonly host: string;
  readonly group?: string;
  /** Where entries and exits go: the broadcast addresses (or, in tests, chosen peers). */
  readonly broadcast: readonly IpmsgEndpoint[];
  /** The first packet number; then +1 per packet, kept below 2^31. Draw it at random. */
  readonly firstPacketNo: number;
  /** Encoding of packets without UTF8OPT; default gbk. */
  readonly legacyEncoding?: string;
  /** Probe a peer silent this long; default 10 000. */
  readonly probeAfterMs?: number;
  /** Probe again this often while it stays silent; default 3000. */
  readonly probeIntervalMs?: number;
  /** Drop a peer still silent this long after the first probe; default 10 000. */
  readonly dropAfterMs?: number;
  /** Resend a message without receipt this often; default 1000. */
  readonly retransmitMs?: number;
  /** Resend it at most this many times; default 5. */
  readonly maxRetransmits?: number;
  /**
   * Peers kept at most; default 1024. A new one takes the place of the least recently heard
   * peer that never answered (`leave` with reason `evicted`); when every peer has answered,
   * packets from new ones are ignored (counted in `ignored`).
   */
  readonly maxPeers?: number;
  /** Peers kept at most per address (ports differ), the same way; default 64. */
  readonly maxPeersPerAddress?: number;
  /**
   * How often it answers each source address (ANSENTRY, RECVMSG, introductions, goodbyes to
   * peers that never answered, and their one probe), and all of them together, so that forged
   * sources cannot make it a reflector; answers past it are not sent (counted in
   * `rateLimited`), a probe waits. Default {@link DEFAULT_ANSWER_LIMIT}.
   */
  readonly answerLimit?: Omit<PeerRateLimiterOptions, 'maxKeys'>;
  /** What SENDINFO answers to GETINFO; default `udpkit`. */
  readonly version?: string;
  /**
   * Bytes of sealed messages held unopened at most (text + 512 each); past it a sealed message
   * is refused without receipt (counted in `sealedRefused`). Default 1 MiB.
   */
  readonly maxSealedBytes?: number;
}

/**
 * Answers per second and burst, per source address and in total. A client needs one answer
 * per entry and per message it sends: 40 back to back and 20 a second per address leave room
 * for a script sending messages in bulk (and a lost receipt is asked for again anyway). The
 * total stays small because answers to forged addresses that nobody holds wait for ARP, about
 * 3 s, in the socket's send buffer (212,992 bytes by default: about 256 small datagrams), and
 * everything we send queues behind them once it is full; 80 then 40 a second keep that below
 * about 200. Probes of peers that never answered wait for it rather than being lost, so a
 * LAN of hundreds starting at once is still probed within a few seconds.
 */
export const DEFAULT_ANSWER_LIMIT = { rate: 20, burst: 40, total: { rate: 40, burst: 80 } } as const;

/** `'idle'` until started, `'running'`, then `'closed'` after `quit()`. */
export type IpmsgSessionState = 'idle' | 'running' | 'closed';

/** Counters of an `IpmsgSession`. */
export interface IpmsgStats {
  /** Packets received and understood (own broadcasts excluded). */
  packets: number;
  /** Datagrams that were not IPMsg packets, ignored. */
  malformed: number;
  /** Our own broadcasts, come back. */
  own: number;
  /** Retransmitted messages received again: acknowledged, not shown twice. */
  duplicates: number;
  /** Packets from new peers ignored: the table (or their address's share) held only peers that answered. */
  ignored: number;
  /** Peers that never answered, forgotten to make room for new ones. */
  evicted: number;
  /**
   * Answers and goodbyes not sent because their address, or everyone together, went past
   * `answerLimit`, and peers dropped before their one probe could be sent.
   */
  rateLimited: number;
  /** Automatic answers sent while away. */
  autoReplies: number;
  /** Sealed messages refused: the unopened ones held already filled `maxSealedBytes`. */
  sealedRefused: number;
  /**
   * Packets understood but not acted on: the host-list exchange (GETLIST, ANSLIST...), DELMSG,
   * READMSG and ANSREADMSG that match nothing we sent, and commands udpkit does not speak.
   */
  unanswered: number;
}
