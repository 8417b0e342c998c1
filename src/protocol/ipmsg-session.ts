/**
 * An IP Messenger (IPMsg) participant, sans-I/O (docs/protocol.md, "IP Messenger"): packets
 * ({@link decodeIpmsgPacket}) and `now` (ms) in; datagrams to send, events and the next deadline
 * out. It keeps the peer table (entries, exits, ageing), answers entries and receipts, and
 * resends messages until their receipt comes.
 *
 * Driving it: {@link IpmsgSession.start} once and send what it returns (to the broadcast
 * addresses it was given); {@link IpmsgSession.handleDatagram} every datagram,
 * {@link IpmsgSession.send} to talk, {@link IpmsgSession.handleTimeout} when the timer armed for
 * {@link IpmsgSession.nextDeadline} fires; after each call send the datagrams it returned and
 * take {@link IpmsgSession.pollEvents}. {@link IpmsgSession.quit} to leave. Each `handle*` returns
 * the datagrams it causes at once (this core has no transmit queue, so no `pollTransmit`).
 *
 * Against forged sources (any LAN host can write any source address), what a source that never
 * answers gets is bounded: per packet, the answers the protocol owes (an ANSENTRY; for a first
 * message, our introduction and its RECVMSG), and one probe per peer in its life, all within a
 * per-address and total rate limit ({@link DEFAULT_ANSWER_LIMIT}). One forged 10-byte BR_ENTRY
 * earns 2 datagrams of our entry packet's size (25 bytes + user, host, nickname, group). The
 * peer table evicts peers that never answered before it refuses a newcomer (./ipmsg-peers.ts).
 *
 * Longer than most files (about 270 lines) for a reason: it is the protocol's one state machine,
 * where every packet type meets the peer table, the outbox and the rate limit; those, the
 * packet codec and the duplicate filter already stand alone (ipmsg-*.ts).
 *
 * Longer than most files (about 270 lines): one state machine whose inputs all touch the same
 * peer table and outbox; the codec, dedupe, outbox and peer table already stand apart
 * (ipmsg-*.ts).
 */
import { UdpkitError, UdpkitRangeError, UdpkitTypeError } from '../errors.js';
import { validateInteger } from '../validate.js';
import { FILEATTACHOPT, IpmsgFileCommand, decodeAttachments } from './ipmsg-attach.js';
import { SeenMessages } from './ipmsg-dedupe.js';
import { IpmsgOutbox } from './ipmsg-outbox.js';
import {
  IPMSG_MAX_PACKET,
  IpmsgCommand as Cmd,
  IpmsgOption as Opt,
  confirmedPacketNo,
  decodeIpmsgPacket,
  encodeIpmsgPacket,
  entryExtra,
  ipmsgCommandOf,
  messageText,
  parseEntryExtra,
  validateLegacyEncoding,
} from './ipmsg-packet.js';
import { IpmsgPeerTable, peerKey, type IpmsgPeer } from './ipmsg-peers.js';
import { DEFAULT_ANSWER_LIMIT, type IpmsgDatagram, type IpmsgEndpoint, type IpmsgEvent, type IpmsgSessionOptions, type IpmsgSessionState, type IpmsgStats } from './ipmsg-types.js';
import { PeerRateLimiter } from './peer-rate-limiter.js';

export type { IpmsgPeer } from './ipmsg-peers.js';
export { DEFAULT_ANSWER_LIMIT } from './ipmsg-types.js';
export type { IpmsgDatagram, IpmsgEndpoint, IpmsgEvent, IpmsgSessionOptions, IpmsgSessionState, IpmsgStats } from './ipmsg-types.js';

const MAX_PACKET_NO = 0x7fffffff;

function checkName(value: string, what: string, banned: RegExp): string {
  if (typeof value !== 'string' || banned.test(value)) throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', `bad IPMsg ${what}: ${JSON.stringify(value)}`);
  return value;
}

/**
 * One IPMsg participant. Reads no clock and no socket.
 * @example
 * const s = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 1, broadcast: [{ address: '10.0.0.255', port: 2425 }] });
 * for (const d of s.start(Date.now())) socket.send(d.data, d.port, d.address);
 */
export class IpmsgSession {
  readonly #o: Required<Omit<IpmsgSessionOptions, 'group' | 'answerLimit'>> & { readonly group: string };
  readonly #peers: IpmsgPeerTable;
  readonly #outbox: IpmsgOutbox;
  readonly #limiter: PeerRateLimiter;
  readonly #seen = new SeenMessages();
  readonly #announced = new Set<number>();
  #events: IpmsgEvent[] = [];
  #next: number;
  #state: IpmsgSessionState = 'idle';
  readonly stats: IpmsgStats = { packets: 0, malformed: 0, own: 0, duplicates: 0, ignored: 0, evicted: 0, rateLimited: 0 };

  constructor(options: IpmsgSessionOptions) {
    const ms = (v: number | undefined, d: number, name: string, min = 1): number => validateInteger(v ?? d, { name, min, max: 86_400_000 });
    this.#o = {
      nickname: checkName(options.nickname, 'nickname', /\0/),
      user: checkName(options.user, 'user name', /[:\0]/),
      host: checkName(options.host, 'host name', /[:\0]/),
      group: checkName(options.group ?? '', 'group', /\0/),
      broadcast: [...options.broadcast],
      firstPacketNo: validateInteger(options.firstPacketNo, { name: 'firstPacketNo', min: 1, max: MAX_PACKET_NO }),
      legacyEncoding: validateLegacyEncoding(options.legacyEncoding ?? 'gbk'),
      probeAfterMs: ms(options.probeAfterMs, 10_000, 'probeAfterMs'),
      probeIntervalMs: ms(options.probeIntervalMs, 3000, 'probeIntervalMs'),
      dropAfterMs: ms(options.dropAfterMs, 10_000, 'dropAfterMs'),
      retransmitMs: ms(options.retransmitMs, 1000, 'retransmitMs'),
      maxRetransmits: ms(options.maxRetransmits, 5, 'maxRetransmits', 0),
      maxPeers: ms(options.maxPeers, 1024, 'maxPeers'),
      maxPeersPerAddress: ms(options.maxPeersPerAddress, 64, 'maxPeersPerAddress'),
    };
    this.#next = this.#o.firstPacketNo;
    this.#peers = new IpmsgPeerTable(this.#o);
    this.#outbox = new IpmsgOutbox(this.#o);
    this.#limiter = new PeerRateLimiter(options.answerLimit ?? DEFAULT_ANSWER_LIMIT);
  }

  get state(): IpmsgSessionState {
    return this.#state;
  }

  /** Known peers, in the order they joined. */
  peers(): IpmsgPeer[] {
    return this.#peers.list();
  }

  /** Messages sent with a receipt requested and not yet confirmed or given up. */
  get pending(): number {
    return this.#outbox.size;
  }

  /** A new packet from us, with the next packet number. */
  #packet(command: number, extra: string): { packetNo: number; data: Buffer } {
    const packetNo = this.#next;
    this.#next = packetNo >= MAX_PACKET_NO ? 1 : packetNo + 1;
    return { packetNo, data: encodeIpmsgPacket({ packetNo, user: this.#o.user, host: this.#o.host, command, extra }) };
  }

  #entry(command: number): { packetNo: number; data: Buffer } {
    return this.#packet(command | Opt.CAPUTF8OPT, entryExtra(this.#o.nickname, this.#o.group));
  }

  #toBroadcast({ packetNo, data }: { packetNo: number; data: Buffer }): IpmsgDatagram[] {
    // Broadcasts come back to us: remember their numbers to recognise them.
    this.#announced.add(packetNo);
    return this.#o.broadcast.map((b) => ({ data, address: b.address, port: b.port }));
  }

  /** Announces this participant (BR_ENTRY to every broadcast address). Call once, first. */
  start(_now: number): IpmsgDatagram[] {
    if (this.#state !== 'idle') return [];
    this.#state = 'running';
    return this.#toBroadcast(this.#entry(Cmd.BR_ENTRY));
  }

  /** Takes one received datagram; returns the answers to send. Never throws on its bytes. */
  handleDatagram(bytes: Uint8Array, from: IpmsgEndpoint, now: number): IpmsgDatagram[] {
    if (this.#state === 'closed') return [];
    const p = decodeIpmsgPacket(bytes, this.#o.legacyEncoding);
    if (p === undefined) {
      this.stats.malformed++;
      return [];
    }
    if (p.user === this.#o.user && p.host === this.#o.host && this.#announced.has(p.packetNo)) {
      this.stats.own++;
      return [];
    }
    this.stats.packets++;
    const cmd = ipmsgCommandOf(p.command);
    if (cmd === Cmd.BR_EXIT) {
      const gone = this.#peers.remove(peerKey(from.address, from.port));
      if (gone) this.#leave(gone, 'exit');
      return [];
    }
    const isEntry = cmd === Cmd.BR_ENTRY || cmd === Cmd.ANSENTRY || cmd === Cmd.BR_ABSENCE;
    const key = peerKey(from.address, from.port);
    // An ANSENTRY answers us only when we sent that endpoint a BR_ENTRY ourselves.
    const answers = cmd === Cmd.ANSENTRY && (this.#peers.asked(key) || this.#o.broadcast.some((t) => t.address === from.address && t.port === from.port));
    const heard = this.#peers.heard(from, { user: p.user, host: p.host, ...(isEntry ? parseEntryExtra(p.extra) : {}) }, now);
    if (heard === undefined) {
      this.stats.ignored++;
      return [];
    }
    const { joined, evicted } = heard;
    for (const gone of evicted) {
      this.stats.evicted++;
      this.#leave(gone, 'evicted');
    }
    const peer = answers ? (this.#peers.verify(key) as IpmsgPeer) : heard.peer;
    if (joined) this.#events.push({ type: 'join', peer });
    const out: IpmsgDatagram[] = [];
    /** Sends what `make` builds back to the sender, if the rate limit allows it. */
    const answer = (make: () => { data: Buffer }): boolean => {
      if (!this.#allow(from.address, now)) return false;
      out.push({ data: make().data, address: from.address, port: from.port });
      return true;
    };
    if (cmd === Cmd.BR_ENTRY) answer(() => this.#entry(Cmd.ANSENTRY));
    // A peer first heard from otherwise does not know us yet, nor we its nickname: introduce us.
    else if (joined && !isEntry && answer(() => this.#entry(Cmd.BR_ENTRY))) this.#peers.markAsked(key);
    if (cmd === Cmd.SENDMSG) {
      if ((p.command & Opt.SENDCHECKOPT) !== 0) answer(() => this.#packet(Cmd.RECVMSG, String(p.packetNo)));
      if (this.#seen.firstTime(`${peer.key}#${p.packetNo}`, now)) {
        const direct = (p.command & (Opt.BROADCASTOPT | Opt.MULTICASTOPT)) === 0;
        const text = messageText(p.extra);
        const files = (p.command & FILEATTACHOPT) === 0 ? [] : decodeAttachments(p.extra.slice(text.length + 1));
        if (text !== '' || files.length === 0) this.#events.push({ type: 'message', from: peer, text, direct, packetNo: p.packetNo });
        if (files.length > 0) this.#events.push({ type: 'offer', from: peer, packetNo: p.packetNo, files });
      } else this.stats.duplicates++;
    } else if (cmd === Cmd.RECVMSG) {
      const n = confirmedPacketNo(p.extra);
      const m = n === undefined ? undefined : this.#outbox.confirm(peer.key, n);
      // Only the one the message went to knows its packet number: it answered.
      if (m) this.#events.push({ type: 'delivered', to: this.#peers.verify(key) ?? peer, packetNo: m.packetNo });
    } else if (cmd === IpmsgFileCommand.RELEASEFILES) {
      const n = confirmedPacketNo(p.extra);
      if (n !== undefined) this.#events.push({ type: 'release', from: peer, packetNo: n });
    }
    return out;
  }

  /** Takes one answer to `address` from the rate limit; false (and counted) when over it. */
  #allow(address: string, now: number): boolean {
    if (this.#limiter.allow(address, now)) return true;
    this.stats.rateLimited++;
    return false;
  }

  /**
   * Sends `text` to each of `to` alone, asking for a receipt (`delivered`/`undelivered` events
   * follow), or with `'all'` to every known peer, marked as sent to everyone, without receipt.
   * @throws `UDPKIT_MESSAGE_TOO_LARGE` past {@link IPMSG_MAX_PACKET} bytes, `UDPKIT_INVALID_ARGUMENT`
   *   for text holding NUL, `UDPKIT_CLOSED` after quit.
   */
  send(text: string, to: readonly IpmsgPeer[] | 'all', now: number): IpmsgDatagram[] {
    if (this.#state === 'closed') throw new UdpkitError('UDPKIT_CLOSED', 'the chat session has ended');
    if (typeof text !== 'string' || text.includes('\0')) throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', 'a message is text without NUL');
    const size = Buffer.byteLength(text) + 64 + Buffer.byteLength(this.#o.user) + Buffer.byteLength(this.#o.host);
    if (size > IPMSG_MAX_PACKET) throw new UdpkitRangeError('UDPKIT_MESSAGE_TOO_LARGE', `message is ${Buffer.byteLength(text)} bytes; IPMsg packets carry at most about ${IPMSG_MAX_PACKET - 64}`);
    const all = to === 'all';
    const command = Cmd.SENDMSG | (all ? Opt.BROADCASTOPT : Opt.SENDCHECKOPT);
    return (all ? this.#peers.list() : to).map((peer) => {
      const { packetNo, data } = this.#packet(command, `${text}\0`);
      if (!all) this.#outbox.add({ packetNo, peer, data }, now);
      return { data, address: peer.address, port: peer.port };
    });
  }

  /**
   * Offers files to `to` alone: a SENDMSG with FILEATTACHOPT and `attachments` (an encoded list,
   * ./ipmsg-attach.ts) after the text, with a receipt. Returns its packet number: requests name it.
   * @throws as {@link send}.
   */
  sendFiles(text: string, to: IpmsgPeer, attachments: string, now: number): { packetNo: number; datagrams: IpmsgDatagram[] } {
    this.send(text, [], now); // checks the text and the state; sends to nobody
    const extra = `${text}\0${attachments}`;
    if (Buffer.byteLength(extra) + 64 + Buffer.byteLength(this.#o.user) + Buffer.byteLength(this.#o.host) > IPMSG_MAX_PACKET) {
      throw new UdpkitRangeError('UDPKIT_MESSAGE_TOO_LARGE', `the list of files is ${Buffer.byteLength(extra)} bytes; IPMsg packets carry at most about ${IPMSG_MAX_PACKET - 64}`);
    }
    const { packetNo, data } = this.#packet(Cmd.SENDMSG | Opt.SENDCHECKOPT | FILEATTACHOPT, extra);
    this.#outbox.add({ packetNo, peer: to, data }, now);
    return { packetNo, datagrams: [{ data, address: to.address, port: to.port }] };
  }

  /** Tells `to` we will not fetch what its SENDMSG `packetNo` offered (RELEASEFILES). */
  releaseFiles(to: IpmsgEndpoint, packetNo: number): IpmsgDatagram[] {
    if (this.#state === 'closed') return [];
    return [{ data: this.#packet(IpmsgFileCommand.RELEASEFILES, String(packetNo)).data, address: to.address, port: to.port }];
  }

  /** Probes silent peers, drops those silent too long, resends messages awaiting receipt. */
  handleTimeout(now: number): IpmsgDatagram[] {
    if (this.#state === 'closed') return [];
    const out: IpmsgDatagram[] = [];
    // Peers that answered are probed freely (the table bounds them); others may be forged, and
    // their one probe waits for the rate limit (counted only if it never could be sent).
    const { probe, dropped, unprobed } = this.#peers.due(now, (peer) => peer.verified || this.#limiter.allow(peer.address, now));
    this.stats.rateLimited += unprobed;
    for (const peer of probe) out.push({ data: this.#entry(Cmd.BR_ENTRY).data, address: peer.address, port: peer.port });
    for (const peer of dropped) this.#leave(peer, 'silent');
    const { resend, failed } = this.#outbox.due(now);
    for (const m of resend) out.push({ data: m.data, address: m.peer.address, port: m.peer.port });
    for (const m of failed) this.#events.push({ type: 'undelivered', to: m.peer, packetNo: m.packetNo });
    return out;
  }

  /**
   * Says goodbye: BR_EXIT to every broadcast address, and to each of `alsoTo` (peers that no
   * broadcast reaches, e.g. on another network). Goodbyes to endpoints that are not peers that
   * answered pass the rate limit: after a flood of forged entries, one goodbye each would be a
   * burst at forged addresses. Messages still awaiting receipt fail.
   */
  quit(now: number, alsoTo: readonly IpmsgEndpoint[] = []): IpmsgDatagram[] {
    if (this.#state === 'closed') return [];
    this.#state = 'closed';
    for (const m of this.#outbox.abandon()) this.#events.push({ type: 'undelivered', to: m.peer, packetNo: m.packetNo });
    const exit = this.#packet(Cmd.BR_EXIT, entryExtra(this.#o.nickname, this.#o.group));
    const allowed = alsoTo.filter((e) => this.#peers.get(peerKey(e.address, e.port))?.verified === true || this.#allow(e.address, now));
    return [...this.#toBroadcast(exit), ...allowed.map((e) => ({ data: exit.data, address: e.address, port: e.port }))];
  }

  #leave(peer: IpmsgPeer, reason: 'exit' | 'silent' | 'evicted'): void {
    this.#events.push({ type: 'leave', peer, reason });
    for (const m of this.#outbox.abandon(peer.key)) this.#events.push({ type: 'undelivered', to: m.peer, packetNo: m.packetNo });
  }

  /** When to call {@link handleTimeout} next, or `undefined` when nothing is waiting. */
  nextDeadline(): number | undefined {
    if (this.#state === 'closed') return undefined;
    const a = this.#peers.nextDeadline();
    const b = this.#outbox.nextDeadline();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  /** The events since the last call, oldest first. */
  pollEvents(): IpmsgEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }
}
