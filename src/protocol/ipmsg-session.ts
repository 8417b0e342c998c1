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
 * Longer than most files (about 400 lines) for a reason: it is the protocol's one state machine,
 * where every packet type meets the peer table, the outboxes and the rate limit; those, the
 * packet codec, text encodings, absence, sealed messages and the duplicate filter already stand
 * alone (ipmsg-*.ts).
 */
import { UdpkitError, UdpkitRangeError, UdpkitTypeError } from '../errors.js';
import { validateInteger } from '../validate.js';
import { IpmsgAbsence } from './ipmsg-absence.js';
import { FILEATTACHOPT, IpmsgFileCommand, decodeAttachments } from './ipmsg-attach.js';
import { SeenMessages } from './ipmsg-dedupe.js';
import { UTF8_ENCODING, hasNonAscii } from './ipmsg-encoding.js';
import { IpmsgOutbox } from './ipmsg-outbox.js';
import { DEFAULT_MAX_SEALED_BYTES, SealedMessages } from './ipmsg-sealed.js';
import {
  IPMSG_MAX_PACKET,
  IpmsgCommand as Cmd,
  IpmsgOption as Opt,
  confirmedPacketNo,
  decodeIpmsgPacket,
  encodeIpmsgPacket,
  type IpmsgDecoded,
  entryExtra,
  ipmsgCommandOf,
  messageText,
  parseEntryExtra,
  validateLegacyEncoding,
} from './ipmsg-packet.js';
import { IpmsgPeerTable, peerKey, type IpmsgPeer } from './ipmsg-peers.js';
import type { SealedMessage } from './ipmsg-sealed.js';
import { DEFAULT_ANSWER_LIMIT, type IpmsgDatagram, type IpmsgEndpoint, type IpmsgEvent, type IpmsgSessionOptions, type IpmsgSessionState, type IpmsgStats } from './ipmsg-types.js';
import { PeerRateLimiter } from './peer-rate-limiter.js';

export type { IpmsgPeer } from './ipmsg-peers.js';
export type { SealedMessage } from './ipmsg-sealed.js';
export { DEFAULT_ANSWER_LIMIT } from './ipmsg-types.js';
export type { IpmsgDatagram, IpmsgEndpoint, IpmsgEvent, IpmsgSessionOptions, IpmsgSessionState, IpmsgStats } from './ipmsg-types.js';

const MAX_PACKET_NO = 0x7fffffff;

/** How a message is sent: sealed (SECRETOPT with READCHECKOPT) or not. */
export interface IpmsgSendOptions {
  readonly sealed?: boolean;
}

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
  readonly #o: Required<Omit<IpmsgSessionOptions, 'group' | 'answerLimit' | 'maxSealedBytes'>> & { readonly group: string };
  readonly #peers: IpmsgPeerTable;
  readonly #outbox: IpmsgOutbox;
  /** READMSGs we sent with READCHECKOPT, resent until their ANSREADMSG comes. */
  readonly #readNotices: IpmsgOutbox;
  readonly #limiter: PeerRateLimiter;
  readonly #seen = new SeenMessages();
  readonly #announced = new Set<number>();
  readonly #absence = new IpmsgAbsence();
  readonly #sealed: SealedMessages;
  /** Encodings peers declared at the end of their entries, by peer key (cleared when they leave). */
  readonly #declared = new Map<string, string>();
  #events: IpmsgEvent[] = [];
  #next: number;
  #state: IpmsgSessionState = 'idle';
  readonly stats: IpmsgStats = { packets: 0, malformed: 0, own: 0, duplicates: 0, ignored: 0, evicted: 0, rateLimited: 0, autoReplies: 0, sealedRefused: 0, unanswered: 0 };

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
      version: checkName(options.version ?? 'udpkit', 'version', /\0/),
    };
    this.#next = this.#o.firstPacketNo;
    this.#peers = new IpmsgPeerTable(this.#o);
    this.#outbox = new IpmsgOutbox(this.#o);
    this.#readNotices = new IpmsgOutbox(this.#o);
    this.#sealed = new SealedMessages(validateInteger(options.maxSealedBytes ?? DEFAULT_MAX_SEALED_BYTES, { name: 'maxSealedBytes', min: 0 }));
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

  /** A new packet from us, with the next packet number, in `peer`'s encoding when given. */
  #packet(command: number, extra: string, peer?: IpmsgPeer): { packetNo: number; data: Buffer } {
    const packetNo = this.#next;
    this.#next = packetNo >= MAX_PACKET_NO ? 1 : packetNo + 1;
    // UTF-8 unless the peer is known to read only a legacy encoding (no CAPUTF8OPT, never UTF8OPT).
    const encoding = peer !== undefined && !peer.utf8 && peer.encoding !== '' ? peer.encoding : UTF8_ENCODING;
    return { packetNo, data: encodeIpmsgPacket({ packetNo, user: this.#o.user, host: this.#o.host, command, extra }, encoding) };
  }

  /** An entry packet; unicast ones in `peer`'s encoding (a GBK-only client then reads our name). */
  #entry(command: number, peer?: IpmsgPeer): { packetNo: number; data: Buffer } {
    return this.#packet(command | Opt.CAPUTF8OPT | this.#absence.entryOptions(), entryExtra(this.#o.nickname, this.#o.group), peer);
  }

  /** Our absence text, or `undefined` when present. */
  get absence(): string | undefined {
    return this.#absence.text;
  }

  /** Sealed messages received and not opened yet, oldest first. */
  unopened(): SealedMessage[] {
    return this.#sealed.unread();
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
    const key = peerKey(from.address, from.port);
    const p = decodeIpmsgPacket(bytes, this.#o.legacyEncoding, this.#declared.get(key));
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
      const gone = this.#peers.remove(key);
      if (gone) this.#leave(gone, 'exit');
      return [];
    }
    const isEntry = cmd === Cmd.BR_ENTRY || cmd === Cmd.ANSENTRY || cmd === Cmd.BR_ABSENCE;
    // An ANSENTRY answers us only when we sent that endpoint a BR_ENTRY ourselves.
    const answers = cmd === Cmd.ANSENTRY && (this.#peers.asked(key) || this.#o.broadcast.some((t) => t.address === from.address && t.port === from.port));
    const flagged = (p.command & Opt.UTF8OPT) !== 0;
    const text = {
      // What its text without UTF8OPT is in: declared, or seen in this packet's non-ASCII bytes.
      ...(p.declaredEncoding !== undefined ? { encoding: p.declaredEncoding } : !flagged && hasNonAscii(bytes) ? { encoding: p.encoding } : {}),
      utf8: flagged || (isEntry && (p.command & Opt.CAPUTF8OPT) !== 0),
    };
    const wasAway = this.#peers.get(key)?.away;
    const entry = isEntry ? { ...parseEntryExtra(p.extra), away: (p.command & Opt.ABSENCEOPT) !== 0 } : {};
    const heard = this.#peers.heard(from, { user: p.user, host: p.host, ...entry, ...text }, now);
    if (heard === undefined) {
      this.stats.ignored++;
      return [];
    }
    if (p.declaredEncoding !== undefined) this.#declared.set(key, p.declaredEncoding);
    const { joined, evicted } = heard;
    for (const gone of evicted) {
      this.stats.evicted++;
      this.#leave(gone, 'evicted');
    }
    const peer = answers ? (this.#peers.verify(key) as IpmsgPeer) : heard.peer;
    if (joined) this.#events.push({ type: 'join', peer });
    else if (isEntry && wasAway !== peer.away) this.#events.push({ type: 'absence', peer, away: peer.away });
    const out: IpmsgDatagram[] = [];
    /** Sends what `make` builds back to the sender, if the rate limit allows it. */
    const answer = (make: () => { data: Buffer }): boolean => {
      if (!this.#allow(from.address, now)) return false;
      out.push({ data: make().data, address: from.address, port: from.port });
      return true;
    };
    if (cmd === Cmd.BR_ENTRY) answer(() => this.#entry(Cmd.ANSENTRY, peer));
    // A peer first heard from otherwise does not know us yet, nor we its nickname: introduce us.
    else if (joined && !isEntry && answer(() => this.#entry(Cmd.BR_ENTRY, peer))) this.#peers.markAsked(key);
    if (cmd === Cmd.SENDMSG) this.#message(p, peer, answer, now);
    else if (cmd === Cmd.RECVMSG) {
      const n = confirmedPacketNo(p.extra);
      const m = n === undefined ? undefined : this.#outbox.confirm(peer.key, n);
      // Only the one the message went to knows its packet number: it answered.
      if (m) this.#events.push({ type: 'delivered', to: this.#peers.verify(key) ?? peer, packetNo: m.packetNo });
    } else if (cmd === Cmd.READMSG) {
      const n = confirmedPacketNo(p.extra);
      const read = n === undefined ? 'unknown' : this.#sealed.read(peer.key, n);
      if (read === 'unknown') this.stats.unanswered++;
      else {
        if (read === 'first') this.#events.push({ type: 'read', by: peer, packetNo: n as number });
        if ((p.command & Opt.READCHECKOPT) !== 0) answer(() => this.#packet(Cmd.ANSREADMSG, String(p.packetNo), peer));
      }
    } else if (cmd === Cmd.ANSREADMSG) {
      const n = confirmedPacketNo(p.extra);
      if (n === undefined || this.#readNotices.confirm(peer.key, n) === undefined) this.stats.unanswered++;
    } else if (cmd === Cmd.GETINFO) answer(() => this.#packet(Cmd.SENDINFO, this.#o.version, peer));
    else if (cmd === Cmd.GETABSENCEINFO) answer(() => this.#packet(Cmd.SENDABSENCEINFO, this.#absence.info(), peer));
    else if (cmd === Cmd.SENDINFO || cmd === Cmd.SENDABSENCEINFO) {
      this.#events.push({ type: 'info', from: peer, kind: cmd === Cmd.SENDINFO ? 'version' : 'absence', text: messageText(p.extra) });
    } else if (cmd === IpmsgFileCommand.RELEASEFILES) {
      const n = confirmedPacketNo(p.extra);
      if (n !== undefined) this.#events.push({ type: 'release', from: peer, packetNo: n });
    }
    // The host-list exchange (GETLIST...), DELMSG, and commands of clients' own: counted, not answered.
    else if (!isEntry && cmd !== Cmd.NOOPERATION) this.stats.unanswered++;
    return out;
  }

  /** A SENDMSG from `peer`: its receipt, the message or its sealed notice, our automatic answer. */
  #message(p: IpmsgDecoded, peer: IpmsgPeer, answer: (make: () => { data: Buffer }) => boolean, now: number): void {
    const text = messageText(p.extra);
    const sealed = (p.command & Opt.SECRETOPT) !== 0;
    const id = `${peer.key}#${p.packetNo}`;
    if (sealed && !this.#seen.has(id, now) && !this.#sealed.fits(text)) {
      // Not confirmed: its sender learns it did not arrive, and a resent copy may fit later.
      this.stats.sealedRefused++;
      return;
    }
    if ((p.command & Opt.SENDCHECKOPT) !== 0) answer(() => this.#packet(Cmd.RECVMSG, String(p.packetNo), peer));
    if (!this.#seen.firstTime(id, now)) {
      this.stats.duplicates++;
      return;
    }
    const direct = (p.command & (Opt.BROADCASTOPT | Opt.MULTICASTOPT)) === 0;
    // Attachments follow the text's NUL; a message of files alone shows only the offer.
    const files = (p.command & FILEATTACHOPT) === 0 ? [] : decodeAttachments(p.extra.slice(text.length + 1));
    if (sealed) {
      const held = this.#sealed.hold({ from: peer, packetNo: p.packetNo, text, direct, readCheck: (p.command & Opt.READCHECKOPT) !== 0 }) as SealedMessage;
      this.#events.push({ type: 'sealed', from: peer, id: held.id, packetNo: p.packetNo });
    } else if (text !== '' || files.length === 0) {
      this.#events.push({ type: 'message', from: peer, text, direct, packetNo: p.packetNo, auto: (p.command & Opt.AUTORETOPT) !== 0, sealed: false });
    }
    if (files.length > 0) this.#events.push({ type: 'offer', from: peer, packetNo: p.packetNo, files });
    if (this.#absence.autoReplyTo(p.command) && answer(() => this.#packet(Cmd.SENDMSG | Opt.AUTORETOPT, `${this.#absence.info()}\0`, peer))) this.stats.autoReplies++;
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
   * `sealed`: each peer sees it only once it opens it, and a `read` event follows then. Each
   * copy goes in its peer's encoding (UTF-8 unless the peer reads only a legacy one).
   * @throws `UDPKIT_MESSAGE_TOO_LARGE` past {@link IPMSG_MAX_PACKET} bytes, `UDPKIT_INVALID_ARGUMENT`
   *   for text holding NUL, `UDPKIT_CLOSED` after quit.
   */
  send(text: string, to: readonly IpmsgPeer[] | 'all', now: number, options: IpmsgSendOptions = {}): IpmsgDatagram[] {
    this.#checkOpen();
    this.#checkText(text, 'a message');
    const all = to === 'all';
    const sealed = options.sealed === true ? Opt.SECRETOPT | Opt.READCHECKOPT : 0;
    const command = Cmd.SENDMSG | sealed | (all ? Opt.BROADCASTOPT : Opt.SENDCHECKOPT);
    return (all ? this.#peers.list() : to).map((peer) => {
      const { packetNo, data } = this.#packet(command, `${text}\0`, peer);
      if (!all) this.#outbox.add({ packetNo, peer, data }, now);
      if (sealed !== 0) this.#sealed.sent(peer.key, packetNo);
      return { data, address: peer.address, port: peer.port };
    });
  }

  /**
   * Shows the sealed message `id` (a `message` event with `sealed: true`) and tells its sender
   * (READMSG, resent until ANSREADMSG when the sender asked for READCHECKOPT).
   * @throws `UDPKIT_INVALID_ARGUMENT` when no unopened message has that number, `UDPKIT_CLOSED`.
   */
  open(id: number, now: number): IpmsgDatagram[] {
    this.#checkOpen();
    const m = this.#sealed.open(id);
    if (m === undefined) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `no unopened sealed message ${id}`);
    const from = this.#peers.get(m.from.key) ?? m.from;
    this.#events.push({ type: 'message', from, text: m.text, direct: m.direct, packetNo: m.packetNo, auto: false, sealed: true });
    const notice = this.#packet(Cmd.READMSG | (m.readCheck ? Opt.READCHECKOPT : 0), String(m.packetNo), from);
    if (m.readCheck) this.#readNotices.add({ packetNo: notice.packetNo, peer: from, data: notice.data }, now);
    return [{ data: notice.data, address: from.address, port: from.port }];
  }

  /**
   * Goes away with `text` (auto-answering messages sent to us alone, once each) or, with
   * `undefined`, comes back: BR_ABSENCE to every broadcast address and to each of `alsoTo`
   * (peers no broadcast reaches).
   */
  setAbsence(text: string | undefined, now: number, alsoTo: readonly IpmsgEndpoint[] = []): IpmsgDatagram[] {
    this.#checkOpen();
    if (text !== undefined) this.#checkText(text, 'an absence text');
    this.#absence.set(text);
    const entry = this.#entry(Cmd.BR_ABSENCE);
    return [...this.#toBroadcast(entry), ...this.#unicast(entry.data, alsoTo, now)];
  }

  /** Asks `peer` for its version (GETINFO) or absence text (GETABSENCEINFO); an `info` event follows. */
  ask(peer: IpmsgPeer, kind: 'version' | 'absence'): IpmsgDatagram[] {
    this.#checkOpen();
    const { data } = this.#packet(kind === 'version' ? Cmd.GETINFO : Cmd.GETABSENCEINFO, '', peer);
    return [{ data, address: peer.address, port: peer.port }];
  }

  /** Text that fits one packet, without NUL (it ends the text on the wire). */
  #checkText(text: string, what: string): void {
    if (typeof text !== 'string' || text.includes('\0')) throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', `${what} is text without NUL`);
    const size = Buffer.byteLength(text) + 64 + Buffer.byteLength(this.#o.user) + Buffer.byteLength(this.#o.host);
    if (size > IPMSG_MAX_PACKET) throw new UdpkitRangeError('UDPKIT_MESSAGE_TOO_LARGE', `${what} is ${Buffer.byteLength(text)} bytes; IPMsg packets carry at most about ${IPMSG_MAX_PACKET - 64}`);
  }

  #checkOpen(): void {
    if (this.#state === 'closed') throw new UdpkitError('UDPKIT_CLOSED', 'the chat session has ended');
  }

  /** `data` to each of `to`; those that are not peers that answered pass the rate limit. */
  #unicast(data: Buffer, to: readonly IpmsgEndpoint[], now: number): IpmsgDatagram[] {
    const allowed = to.filter((e) => this.#peers.get(peerKey(e.address, e.port))?.verified === true || this.#allow(e.address, now));
    return allowed.map((e) => ({ data, address: e.address, port: e.port }));
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
    const { packetNo, data } = this.#packet(Cmd.SENDMSG | Opt.SENDCHECKOPT | FILEATTACHOPT, extra, to);
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
    for (const peer of probe) out.push({ data: this.#entry(Cmd.BR_ENTRY, peer).data, address: peer.address, port: peer.port });
    for (const peer of dropped) this.#leave(peer, 'silent');
    const { resend, failed } = this.#outbox.due(now);
    for (const m of resend) out.push({ data: m.data, address: m.peer.address, port: m.peer.port });
    for (const m of failed) this.#events.push({ type: 'undelivered', to: m.peer, packetNo: m.packetNo });
    // A read notice never confirmed is given up quietly: the message was shown anyway.
    for (const m of this.#readNotices.due(now).resend) out.push({ data: m.data, address: m.peer.address, port: m.peer.port });
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
    this.#readNotices.abandon();
    const exit = this.#packet(Cmd.BR_EXIT, entryExtra(this.#o.nickname, this.#o.group));
    return [...this.#toBroadcast(exit), ...this.#unicast(exit.data, alsoTo, now)];
  }

  #leave(peer: IpmsgPeer, reason: 'exit' | 'silent' | 'evicted'): void {
    this.#events.push({ type: 'leave', peer, reason });
    this.#declared.delete(peer.key);
    this.#readNotices.abandon(peer.key);
    for (const m of this.#outbox.abandon(peer.key)) this.#events.push({ type: 'undelivered', to: m.peer, packetNo: m.packetNo });
  }

  /** When to call {@link handleTimeout} next, or `undefined` when nothing is waiting. */
  nextDeadline(): number | undefined {
    if (this.#state === 'closed') return undefined;
    const due = [this.#peers.nextDeadline(), this.#outbox.nextDeadline(), this.#readNotices.nextDeadline()].filter((t) => t !== undefined);
    return due.length === 0 ? undefined : Math.min(...due);
  }

  /** The events since the last call, oldest first. */
  pollEvents(): IpmsgEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }
}
