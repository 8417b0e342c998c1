/**
 * `relay --key`. A sealed frame opens only on the port it was sealed for (docs/protocol.md,
 * "Sealed frames"), and a relay changes ports: a client seals for the relay's port, the upstream
 * listens on another. So the relay opens each datagram where it arrives and seals it again for
 * the next hop, on arrival, before the impairment decides its fate: a duplicate is then the same
 * sealed bytes twice, which the receiver refuses as replayed, as it would a real network's.
 * Without a key the relay cannot do that; {@link looksSealed} lets it say so.
 */
import type { Opener, RefusalReason } from '../protocol/opener.js';
import type { Sealer } from '../protocol/seal.js';
import type { Direction } from '../protocol/impairment-options.js';
import { FRAME_MAGIC, FrameType } from '../protocol/frame-header.js';
import type { SealingKit } from '../socket/sealing.js';

/**
 * True when `data` starts like a sealed frame of any version (what an unkeyed relay passes on
 * unchanged, and the far end then refuses).
 * @example looksSealed(new Sealer(key).seal(Buffer.from('x'), Date.now(), { port: 5000 })) // true
 */
export function looksSealed(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === FRAME_MAGIC >> 8 && data[1] === (FRAME_MAGIC & 0xff) && data[3] === FrameType.SEALED;
}

/** A datagram opened by {@link RelaySealing.open}. */
export interface Opened {
  readonly plaintext: Buffer;
  /** Sealed as an automatic answer (kept when sealed again). */
  readonly answer: boolean;
}

/** Opens and re-seals a relay's traffic: one opener per direction, one sealer per client and direction. */
export class RelaySealing {
  readonly #kit: SealingKit;
  readonly #openers: Record<Direction, Opener>;
  /** Per client: its own sender ids, so one busy client cannot push another's counters out of a replay window. */
  readonly #sealers = new WeakMap<object, Record<Direction, Sealer>>();

  constructor(kit: SealingKit) {
    this.#kit = kit;
    this.#openers = { up: kit.newOpener(), down: kit.newOpener() };
  }

  /** What a datagram that arrived on local port `port` carries, or why it was refused. */
  open(data: Uint8Array, direction: Direction, port: number, now: number): Opened | RefusalReason {
    const opened = this.#openers[direction].open(data, now, port);
    return opened.ok ? { plaintext: opened.plaintext, answer: opened.answer } : opened.reason;
  }

  /**
   * Seals an opened datagram again for destination port `port`, on behalf of `client` (any
   * object that stands for one client, e.g. its relay session). An answer stays an answer.
   */
  seal(opened: Opened, client: object, direction: Direction, port: number, now: number): Buffer {
    let sealers = this.#sealers.get(client);
    if (sealers === undefined) {
      sealers = { up: this.#kit.newSealer(), down: this.#kit.newSealer() };
      this.#sealers.set(client, sealers);
    }
    return sealers[direction].seal(opened.plaintext, now, { port, answer: opened.answer });
  }
}
