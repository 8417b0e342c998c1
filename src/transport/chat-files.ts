/**
 * `udpkit chat`'s files and folders (docs/protocol.md, "Files and folders"): a TCP server on the
 * chat's port that serves only what was offered, only to the address it was offered to, and the
 * client side that fetches offers made to us. Requests arrive as IPMsg packets (GETFILEDATA,
 * GETDIRFILES); the answer is the bytes, or nothing and a closed connection.
 *
 * Limits (each refusal counted by reason in {@link ChatFileStats.refused}): connections per
 * second per address and in total ({@link DEFAULT_FILE_REQUEST_LIMIT}), transfers at once each
 * way (`maxTransfers`), bytes read and not yet sent over all transfers (`maxBytesInFlight`), the
 * request's size and the time to send it.
 */
import { isUtf8 } from 'node:buffer';
import { EventEmitter } from 'node:events';
import iconv from 'iconv-lite';
import { createServer, type Server, type Socket } from 'node:net';
import { UdpkitError, UdpkitRangeError } from '../errors.js';
import { IpmsgFileCommand, fileRequestExtra, type IpmsgAttachment, type IpmsgFileRequest } from '../protocol/ipmsg-attach.js';
import { OfferTable, noRefusals, type FileRefusal, type OfferedFile, type OutgoingOffer } from '../protocol/ipmsg-files.js';
import { DEFAULT_LEGACY_ENCODING, encodeIpmsgPacket } from '../protocol/ipmsg-packet.js';
import type { IpmsgPeer } from '../protocol/ipmsg-peers.js';
import { MemoryBudget } from '../protocol/memory-budget.js';
import { PeerRateLimiter, type PeerRateLimiterOptions } from '../protocol/peer-rate-limiter.js';
import { prepareOffer, readRequest } from './chat-file-request.js';
import { BudgetGate, serveDir, serveFile, Unsafe, CHUNK } from './chat-file-serve.js';
import { fetchWhole, rate } from './chat-file-get.js';
import type { ChatFileEvent, ChatFileStats } from './chat-file-types.js';
import { milliseconds as now } from './clock.js';

export type { ChatFileEvent, ChatFileStats } from './chat-file-types.js';

/**
 * Requests (TCP connections) a second per address, and in total. A whole folder is one request,
 * but clients fetch an offer of many files one connection per file, and a refused one fails: the
 * burst covers the largest offer one packet can carry (about 150 files), the rate a fetch of
 * small files one after the other.
 */
export const DEFAULT_FILE_REQUEST_LIMIT = { rate: 20, burst: 100, total: { rate: 100, burst: 200 } } as const;

/** Options of {@link ChatFiles}. */
export interface ChatFilesOptions {
  /** The TCP port: the chat's UDP port. */
  readonly port: number;
  /** The user and host fields of our request packets. */
  readonly user: string;
  readonly host: string;
  /** Transfers served at once, and fetched at once; default 8. */
  readonly maxTransfers?: number;
  /** Bytes read from files and not yet written to sockets, over all transfers; default 32 MiB. */
  readonly maxBytesInFlight?: number;
  /** Default {@link DEFAULT_FILE_REQUEST_LIMIT}. */
  readonly requestLimit?: Omit<PeerRateLimiterOptions, 'maxKeys'>;
  /** A connection must send its request within this; default 10 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Names in folder streams that are not UTF-8 are read in this; default gbk (as the chat's). */
  readonly legacyEncoding?: string;
}

/** A transfer with no progress for this long is cut, either way. */
export const IDLE_MS = 60_000;

/** Files both ways for one chat. Create with {@link ChatFiles.listen}. */
export class ChatFiles extends EventEmitter {
  readonly table = new OfferTable();
  readonly stats: ChatFileStats = { offered: 0, served: 0, received: 0, failed: 0, refused: noRefusals(), unsafeNames: 0 };
  readonly #server: Server;
  readonly #o: Required<Omit<ChatFilesOptions, 'requestLimit'>>;
  readonly #limiter: PeerRateLimiter;
  readonly #gate: BudgetGate;
  readonly #sockets = new Set<Socket>();
  /** Aborted by {@link close}: cuts fetches still running. */
  readonly #closing = new AbortController();
  #serving = 0;
  #fetching = 0;
  #packetNo = Math.floor(Date.now() / 1000);

  private constructor(server: Server, o: ChatFilesOptions) {
    super();
    this.#server = server;
    this.#o = { maxTransfers: 8, maxBytesInFlight: 32 << 20, requestTimeoutMs: 10_000, legacyEncoding: DEFAULT_LEGACY_ENCODING, ...o };
    this.#limiter = new PeerRateLimiter(o.requestLimit ?? DEFAULT_FILE_REQUEST_LIMIT);
    this.#gate = new BudgetGate(new MemoryBudget({ limit: Math.max(this.#o.maxBytesInFlight, CHUNK), overhead: 0, name: 'maxBytesInFlight' }));
    server.on('connection', (s) => this.#accept(s));
  }

  /**
   * Listens on TCP `port` (all IPv4 addresses).
   * @throws `UDPKIT_BIND_FAILED` naming the port when it is taken.
   */
  static async listen(o: ChatFilesOptions): Promise<ChatFiles> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new UdpkitError('UDPKIT_BIND_FAILED', `cannot listen for file transfers on 0.0.0.0:${o.port}/tcp: ${err.code ?? err.message}`, { syscall: 'listen', address: '0.0.0.0', port: o.port })),
      );
      server.listen({ port: o.port, host: '0.0.0.0' }, () => resolve());
    });
    return new ChatFiles(server, o);
  }

  override emit(type: ChatFileEvent['type'], e: ChatFileEvent): boolean {
    return super.emit(type, e);
  }

  #refuse(s: Socket, reason: FileRefusal): void {
    this.stats.refused[reason]++;
    this.emit('refused', { type: 'refused', reason, address: s.remoteAddress ?? '' });
    s.destroy();
  }

  #accept(s: Socket): void {
    const address = (s.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
    s.on('error', () => undefined);
    if (!this.#limiter.allow(address, now())) return this.#refuse(s, 'rateLimited');
    if (this.#serving >= this.#o.maxTransfers) return this.#refuse(s, 'busy');
    this.#serving++;
    s.once('close', () => this.#serving--);
    readRequest(
      s,
      this.#o.requestTimeoutMs,
      (r) => {
        // A receiver that stops reading for a minute loses its slot (the transfer fails; it may resume).
        s.setTimeout(IDLE_MS, () => s.destroy(new Error(`nothing read for ${IDLE_MS / 1000} s`)));
        void this.#serve(s, address, r);
      },
      () => this.#refuse(s, 'malformed'),
    );
  }

  async #serve(s: Socket, address: string, r: IpmsgFileRequest): Promise<void> {
    const found = this.table.find(address, r);
    if (found === undefined) return this.#refuse(s, 'unoffered');
    const { offer, file } = found;
    const t0 = now();
    let sent = 0;
    let last = t0;
    const ctx = {
      gate: this.#gate,
      onBytes: (n: number) => {
        sent += n;
        if (now() - last < 500) return;
        last = now();
        this.emit('progress', { type: 'progress', id: offer.id, name: file.name, bytes: r.offset + sent, total: file.kind === 'file' ? file.size : undefined, rate: rate(sent, t0) });
      },
      onSkipped: () => void this.stats.refused.unsafe++,
    };
    try {
      const queued = file.kind === 'file' ? await serveFile(file, r.offset, s, ctx) : await serveDir(file, s, ctx);
      // The receiver, having it all, may have closed already (while the file was being closed here).
      if (!s.destroyed) {
        await new Promise((resolve) => {
          s.once('finish', resolve);
          s.once('close', resolve);
          s.end();
        });
      }
      // Every byte reached the kernel (write callbacks), even if the receiver, having them all, closed first.
      if (sent < queued) throw new Error(`connection closed after ${sent} of ${queued} bytes`);
      if (file.kind === 'dir' || r.offset + sent >= file.size) this.table.fetched(offer, file.id);
      this.stats.served++;
      this.emit('served', { type: 'served', id: offer.id, name: file.name, to: offer.to, bytes: sent });
    } catch (err) {
      if (err instanceof Unsafe) return this.#refuse(s, 'unsafe');
      s.destroy();
      this.stats.failed++;
      this.emit('failed', { type: 'failed', id: offer.id, name: file.name, reason: `sending to ${offer.to}: ${(err as Error).message}`, bytes: r.offset + sent });
    }
  }

  /** Checks and describes paths to offer (see {@link prepareOffer}). */
  prepare(paths: readonly string[]): Promise<OfferedFile[]> {
    return prepareOffer(paths);
  }

  /** Records an offer sent to `to` in SENDMSG `packetNo`. */
  record(to: IpmsgPeer, packetNo: number, files: readonly OfferedFile[]): OutgoingOffer {
    const offer = this.table.offer({ packetNo, address: to.address, to: to.name, files });
    this.stats.offered += files.length;
    this.emit('offered', { type: 'offered', offer });
    return offer;
  }

  /** An offer came (the session's `offer` event). */
  offered(from: IpmsgPeer, packetNo: number, files: readonly IpmsgAttachment[]): void {
    const offer = this.table.received({ packetNo, address: from.address, port: from.port, from: from.name, files });
    this.emit('offer', { type: 'offer', offer });
  }

  /** The peer declined our offer `packetNo` (RELEASEFILES). */
  released(from: IpmsgPeer, packetNo: number): void {
    const offer = this.table.release(from.address, packetNo);
    if (offer) this.emit('released', { type: 'released', id: offer.id, by: from.name });
  }

  /** Folder stream names: UTF-8 when they are valid UTF-8 (udpkit and most clients now), else the legacy encoding. */
  readonly decodeName = (bytes: Buffer): string => (isUtf8(bytes) ? bytes.toString('utf8') : iconv.decode(bytes, this.#o.legacyEncoding));

  /** The next packet number for a request (they need only differ from each other). */
  request(kind: 'file' | 'dir', packetNo: number, fileId: number, offset: number): Buffer {
    const command = kind === 'file' ? IpmsgFileCommand.GETFILEDATA : IpmsgFileCommand.GETDIRFILES;
    return encodeIpmsgPacket({ packetNo: ++this.#packetNo, user: this.#o.user, host: this.#o.host, command, extra: fileRequestExtra({ kind, packetNo, fileId, offset }) });
  }

  /**
   * Fetches everything offer `id` holds into `dir`; events tell how it goes.
   * @throws `UDPKIT_INVALID_ARGUMENT` for an unknown offer, `UDPKIT_SERVER_BUSY` past `maxTransfers`.
   */
  async get(id: number, dir: string, overwrite: boolean, signal?: AbortSignal): Promise<void> {
    const offer = this.table.incoming(id);
    if (offer === undefined) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `no offer ${id} (offers to you are numbered in their "offer" line)`);
    if (this.#fetching >= this.#o.maxTransfers) throw new UdpkitError('UDPKIT_SERVER_BUSY', `already fetching ${this.#fetching} offers (the most at once)`);
    this.#fetching++;
    try {
      await fetchWhole(this, offer, dir, overwrite, signal ? AbortSignal.any([signal, this.#closing.signal]) : this.#closing.signal);
    } finally {
      this.#fetching--;
    }
  }

  /** Bytes read from files and not yet written to sockets, now (at most `maxBytesInFlight`). */
  get bytesInFlight(): number {
    return this.#gate.used;
  }

  /** Transfers running now, both ways (requests being read included). */
  get active(): number {
    return this.#serving + this.#fetching;
  }

  /** Stops listening and cuts every transfer, both ways. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
