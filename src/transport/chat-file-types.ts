/** The events and counters of `udpkit chat`'s file transfers (./chat-files.ts). */
import type { FileRefusal, FileRefusals, IncomingOffer, OutgoingOffer } from '../protocol/ipmsg-files.js';

/** Counters of file transfers. */
export interface ChatFileStats {
  offered: number;
  served: number;
  received: number;
  failed: number;
  /** Requests that got nothing, by reason; `unsafe` also counts links and special files skipped in folders. */
  refused: FileRefusals;
  /** Names from peers that had to be made safe, or folder entries refused for their name. */
  unsafeNames: number;
}

/** What happens with files, as {@link ChatFiles} emits it under `type`. */
export type ChatFileEvent =
  | { readonly type: 'offer'; readonly offer: IncomingOffer }
  | { readonly type: 'offered'; readonly offer: OutgoingOffer }
  | { readonly type: 'progress'; readonly id: number; readonly name: string; readonly bytes: number; readonly total: number | undefined; readonly rate: number }
  | { readonly type: 'received'; readonly id: number; readonly name: string; readonly path: string; readonly kind: 'file' | 'dir'; readonly bytes: number; readonly files: number; readonly seconds: number }
  | { readonly type: 'served'; readonly id: number; readonly name: string; readonly to: string; readonly bytes: number }
  | { readonly type: 'failed'; readonly id: number; readonly name: string; readonly reason: string; readonly bytes: number }
  | { readonly type: 'released'; readonly id: number; readonly by: string }
  | { readonly type: 'refused'; readonly reason: FileRefusal; readonly address: string };
