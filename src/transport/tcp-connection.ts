/**
 * One accepted TCP connection of a {@link listenTcp} listener: reads lines (or, with a key,
 * sealed length-prefixed frames) and hands each to the listener, including what was still held
 * when the connection ended for any reason, so that nothing read is dropped unseen.
 */
import type { Socket } from 'node:net';
import type { CutReason, LineBudget } from '../protocol/line-budget.js';
import { LengthPrefixReader } from '../protocol/length-prefix.js';
import { LineSplitter, type SplitLine } from '../protocol/line-splitter.js';
import type { Opener } from '../protocol/opener.js';
import type { AddressFamily } from '../types.js';

/** Why a line arrived without its newline: the peer closed or reset, the listener closed it idle, or the listener itself closed. */
export type TcpEnd = 'peer' | 'idle' | 'close';

/** Why a connection was closed by the listener. */
export type TcpRefusal = 'not-allowed' | 'max-connections' | 'not-sealed' | 'frame-too-large';

/** One message (line or opened frame) received on a connection. */
export interface TcpMessage {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
  readonly family: AddressFamily;
  readonly receivedAt: number;
  /** `data` is only the line's beginning: the rest of the line was discarded (and counted). */
  readonly cut: boolean;
  /** Why it was cut: longer than `maxLineBytes`, or cut to keep within `maxBufferedBytes`. */
  readonly cutBy?: CutReason;
  /** The connection ended before the line's newline. */
  readonly partial: boolean;
  /** With `partial`: how the connection ended. */
  readonly endedBy?: TcpEnd;
}

/** What a connection needs from its listener. */
export interface TcpConnectionOptions {
  readonly socket: Socket;
  readonly address: string;
  readonly port: number;
  readonly family: AddressFamily;
  /** With a key: frames are opened with this; without, the stream is split into lines. */
  readonly opener?: Opener;
  readonly maxLineBytes: number;
  readonly maxSealedFrameBytes: number;
  readonly lines: LineBudget;
  readonly onMessage: (message: TcpMessage) => void;
  /** The connection broke the protocol; the listener counts it and closes it. */
  readonly onRefuse: (reason: TcpRefusal) => void;
}

/**
 * Reads one connection. The listener calls {@link finish} once when the connection ends (with
 * why), which hands out the unfinished line, if any.
 * @example
 * const c = new TcpConnection({ socket, address, port, family, maxLineBytes, maxSealedFrameBytes, lines, onMessage, onRefuse });
 * socket.on('close', () => c.finish('peer'));
 */
export class TcpConnection {
  readonly #o: TcpConnectionOptions;
  readonly #splitter: LineSplitter | undefined;
  #finished = false;

  constructor(options: TcpConnectionOptions) {
    this.#o = options;
    const { socket, opener } = options;
    if (opener !== undefined) {
      const reader = new LengthPrefixReader(options.maxSealedFrameBytes);
      socket.on('data', (chunk: Buffer) => {
        const r = reader.push(chunk);
        for (const frame of r.frames) {
          if (socket.destroyed) return;
          // Sealed for the port this connection came in on (docs/protocol.md).
          const opened = opener.open(frame, Date.now(), socket.localPort ?? 0);
          if (!opened.ok) return options.onRefuse('not-sealed');
          this.#emit(opened.plaintext, undefined, undefined);
        }
        if (r.tooLarge) options.onRefuse('frame-too-large');
      });
      return;
    }
    const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes, budget: options.lines, onCut: (line) => this.#line(line) });
    this.#splitter = splitter;
    // Every line read is handed out, even once the socket is being destroyed: it arrived.
    socket.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) this.#line(line);
    });
    socket.on('end', () => this.finish('peer'));
  }

  /** The connection ended (or is ending): hands out its unfinished line. Idempotent. */
  finish(how: TcpEnd): void {
    if (this.#finished) return;
    this.#finished = true;
    const rest = this.#splitter?.end();
    if (rest !== undefined) this.#emit(rest.data, rest.cutBy, how);
  }

  #line(line: SplitLine): void {
    this.#emit(line.data, line.cutBy, undefined);
  }

  #emit(data: Buffer, cutBy: CutReason | undefined, endedBy: TcpEnd | undefined): void {
    const { address, port, family } = this.#o;
    this.#o.onMessage({
      data,
      address,
      port,
      family,
      receivedAt: Date.now(),
      cut: cutBy !== undefined,
      ...(cutBy !== undefined ? { cutBy } : {}),
      partial: endedBy !== undefined,
      ...(endedBy !== undefined ? { endedBy } : {}),
    });
  }
}
