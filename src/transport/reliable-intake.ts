/**
 * What lets a plain listener take `send --ack` traffic: valid DATA frames (docs/protocol.md,
 * "Reliable delivery") are acknowledged, deduplicated and handed on exactly once, in order per
 * sender session; everything else, including frames that only look like DATA (too short, seq
 * 0xFFFFFFFF), passes through untouched as a plain datagram, so nc, socat and the textbook's
 * sender work as before. DATA that is not handed on is reported with a reason. Drives a
 * ReliableReceiver with the socket's clock and one expiry timer.
 */
import { FRAME_MAGIC, FRAME_VERSION, FrameType } from '../protocol/frame-header.js';
import { ReliableReceiver, type ReliableReceiverOptions, type ReliableRefusal } from '../protocol/reliable-receiver.js';
import { BatchBuilder, type DatagramBatch } from '../socket/batch.js';

/** Sends an acknowledgement back to a sender (sealed by the listener when keyed). */
export type AckSender = (ack: Buffer, port: number, replyAddress: string) => void;

/** Told about datagram `i` of `batch` that will never be handed on, and why. */
export type IntakeRefused = (reason: ReliableRefusal, batch: DatagramBatch, i: number) => void;

const MAGIC_HI = FRAME_MAGIC >> 8;
const MAGIC_LO = FRAME_MAGIC & 0xff;

function looksLikeData(data: Buffer, start: number, length: number): boolean {
  return length >= 4 && data[start] === MAGIC_HI && data[start + 1] === MAGIC_LO && data[start + 2] === FRAME_VERSION && data[start + 3] === FrameType.DATA;
}

/** Acknowledges and orders reliable messages inside received batches. */
export class ReliableIntake {
  readonly #receiver: ReliableReceiver;
  readonly #sendAck: AckSender;
  readonly #onRefused: IntakeRefused;
  #timer: NodeJS.Timeout | undefined;
  /** Sender sessions seen so far (a lingering listener waits only if there were any). */
  sessionsSeen = 0;

  constructor(sendAck: AckSender, onRefused: IntakeRefused, limits: ReliableReceiverOptions = {}) {
    this.#receiver = new ReliableReceiver(limits);
    this.#sendAck = sendAck;
    this.#onRefused = onRefused;
  }

  /** DATA datagrams not handed on, by reason (messages let go for a gap included). */
  get refusedBy(): Readonly<Record<ReliableRefusal, number>> {
    return this.#receiver.refusedBy;
  }

  /** Sessions evicted to make room for others. */
  get evictions(): number {
    return this.#receiver.evictions;
  }

  /**
   * Stops accepting new messages: held ones are let go (counted as `gap`), and from now on only
   * messages already delivered are acknowledged again (a sender whose last acknowledgement was
   * lost can still finish).
   */
  stopAccepting(): void {
    this.#receiver.stop();
  }

  /** The batch with DATA frames replaced by the messages they deliver (unchanged without any). */
  process(batch: DatagramBatch): DatagramBatch {
    const { count, data, starts, lengths } = batch;
    let any = false;
    for (let i = 0; i < count && !any; i++) any = looksLikeData(data, starts[i] as number, lengths[i] as number);
    if (!any) return batch;
    const out = new BatchBuilder();
    const acks = new Map<string, { ack: Buffer; port: number; reply: string }>();
    for (let i = 0; i < count; i++) {
      const start = starts[i] as number;
      const payload = data.subarray(start, start + (lengths[i] as number));
      const s = batch.senders[i] as number;
      const port = batch.ports[i] as number;
      const receipt = looksLikeData(data, start, payload.length) ? this.#receiver.handleDatagram(payload, { address: batch.addresses[s] as string, port }, batch.receivedAt) : undefined;
      if (receipt === undefined) {
        out.add(payload, batch, i);
        continue;
      }
      // One acknowledgement per sender session per batch: the last one says everything.
      if (receipt.ack) acks.set(receipt.key, { ack: receipt.ack, port, reply: batch.replyAddresses[s] as string });
      if (receipt.refused !== undefined) this.#onRefused(receipt.refused, batch, i);
      for (const message of receipt.deliver) out.add(Buffer.from(message), batch, i);
    }
    this.sessionsSeen = Math.max(this.sessionsSeen, this.#receiver.size);
    for (const { ack, port, reply } of acks.values()) this.#sendAck(ack, port, reply);
    this.#arm();
    return out.build(batch.receivedAt);
  }

  #arm(): void {
    const due = this.#receiver.nextDeadline();
    clearTimeout(this.#timer);
    if (due === undefined) return;
    this.#timer = setTimeout(() => {
      this.#receiver.handleTimeout(Date.now());
      this.#arm();
    }, Math.max(0, due - Date.now()));
    this.#timer.unref();
  }

  /** Stops the expiry timer. */
  close(): void {
    clearTimeout(this.#timer);
  }
}
