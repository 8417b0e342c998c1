/** Which received datagrams a listener hands out: an allow-list of sources, and sealed frames. */
import type { Opener, RefusalReason as SealRefusal } from '../protocol/opener.js';
import type { ReliableRefusal } from '../protocol/reliable-receiver.js';
import type { Endpoint } from '../types.js';
import { BatchBuilder, type DatagramBatch } from '../socket/batch.js';

/**
 * Why a datagram was refused: its source is not allowed (`source`), it failed to open with a key
 * (`plain`, `malformed`, `version`, `forged`, `stale`, `replayed`), or it was `--ack` traffic not
 * handed on (`duplicate`, `window`, `memory`, `evicted`, `gap`), or it arrived after the listener
 * stopped taking datagrams (`after-stop`).
 */
export type RefusalReason = 'source' | SealRefusal | ReliableRefusal;

/** Counters the admission updates. */
export interface RefusalCounts {
  refused: number;
  refusedBy: Partial<Record<RefusalReason, number>>;
}

/** Filters batches: sources outside the allow-list, then datagrams that do not open. */
export class Admission {
  readonly #allowed: ((address: string) => boolean) | undefined;
  readonly #opener: Opener | undefined;
  readonly #port: number;

  /** `port` is the listener's bound port: sealed frames must have been sealed for it. */
  constructor(allowed: ((address: string) => boolean) | undefined, opener: Opener | undefined, port: number) {
    this.#allowed = allowed;
    this.#opener = opener;
    this.#port = port;
  }

  /** The accepted part of `batch` (payloads unsealed), counting each refusal. */
  admit(batch: DatagramBatch, counts: RefusalCounts, onRefused: (reason: RefusalReason, from: Endpoint) => void): DatagramBatch {
    const out = new BatchBuilder();
    const refuse = (reason: RefusalReason, i: number): void => {
      counts.refused++;
      counts.refusedBy[reason] = (counts.refusedBy[reason] ?? 0) + 1;
      const s = batch.senders[i] as number;
      onRefused(reason, { address: batch.addresses[s] as string, port: batch.ports[i] as number, family: batch.families[s]! });
    };
    for (let i = 0; i < batch.count; i++) {
      const s = batch.senders[i] as number;
      if (this.#allowed && !this.#allowed(batch.addresses[s] as string)) {
        refuse('source', i);
        continue;
      }
      const start = batch.starts[i] as number;
      const payload = batch.data.subarray(start, start + (batch.lengths[i] as number));
      if (!this.#opener) {
        out.add(payload, batch, i);
        continue;
      }
      const opened = this.#opener.open(payload, batch.receivedAt, this.#port);
      if (opened.ok) out.add(opened.plaintext, batch, i, opened.answer);
      else refuse(opened.reason, i);
    }
    return out.build(batch.receivedAt);
  }
}
