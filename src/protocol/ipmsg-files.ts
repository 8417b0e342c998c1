/**
 * Which files and folders we offered, to whom, and which were offered to us (docs/protocol.md,
 * "Files and folders"). Pure bookkeeping, no I/O: the file server asks {@link OfferTable.find}
 * before it opens anything, so a request is served only when it names an offer made to the
 * address it comes from, for the kind (file or folder) it was offered as, until that file is
 * fetched whole or the offer is released or cancelled.
 */
import type { IpmsgAttachment, IpmsgFileRequest } from './ipmsg-attach.js';

/** One file or folder we offered: what the peer saw, and where it is here. */
export interface OfferedFile extends IpmsgAttachment {
  /** Its real path (symlinks resolved once, at offer time); served only from there. */
  readonly path: string;
}

/** An offer we made. */
export interface OutgoingOffer {
  /** The local number `/cancel` takes. */
  readonly id: number;
  /** The SENDMSG that carried it; requests name it. */
  readonly packetNo: number;
  /** Requests are served only from this address. */
  readonly address: string;
  readonly to: string;
  readonly files: Map<number, OfferedFile>;
}

/** An offer made to us. */
export interface IncomingOffer {
  /** The local number `/get` takes. */
  readonly id: number;
  readonly packetNo: number;
  readonly address: string;
  readonly port: number;
  readonly from: string;
  readonly files: readonly IpmsgAttachment[];
  /** Ids of the files already fetched whole: a second `/get` fetches only the rest. */
  readonly fetched: Set<number>;
}

/** Why a request got nothing. */
export type FileRefusal = 'unoffered' | 'rateLimited' | 'busy' | 'malformed' | 'unsafe';

/** Refusals by reason, as the file server counts them. */
export type FileRefusals = Record<FileRefusal, number>;

/** A new refusal counter, all zero. */
export function noRefusals(): FileRefusals {
  return { unoffered: 0, rateLimited: 0, busy: 0, malformed: 0, unsafe: 0 };
}

/** Options of an {@link OfferTable}. */
export interface OfferTableOptions {
  /** Offers kept each way; past it the oldest goes. Default 256. */
  readonly maxOffers?: number;
}

/**
 * Offers both ways, numbered from 1 in one sequence so `/get 3` and `/cancel 3` are unambiguous.
 * @example
 * const t = new OfferTable();
 * const o = t.offer({ packetNo: 77, address: '10.0.0.2', to: 'bob', files });
 * t.find('10.0.0.2', { kind: 'file', packetNo: 77, fileId: 0, offset: 0 }); // the file
 * t.find('10.0.0.3', { kind: 'file', packetNo: 77, fileId: 0, offset: 0 }); // undefined
 */
export class OfferTable {
  readonly #max: number;
  readonly #out = new Map<number, OutgoingOffer>();
  readonly #in = new Map<number, IncomingOffer>();
  #next = 1;

  constructor(options: OfferTableOptions = {}) {
    this.#max = options.maxOffers ?? 256;
  }

  /** Records an offer we sent; the oldest outgoing offer is forgotten past the limit. */
  offer(o: Omit<OutgoingOffer, 'id' | 'files'> & { readonly files: readonly OfferedFile[] }): OutgoingOffer {
    const made: OutgoingOffer = { ...o, id: this.#next++, files: new Map(o.files.map((f) => [f.id, f])) };
    this.#out.set(made.id, made);
    if (this.#out.size > this.#max) this.#out.delete(this.#out.keys().next().value as number);
    return made;
  }

  /** Records an offer made to us; the oldest is forgotten past the limit. */
  received(o: Omit<IncomingOffer, 'id' | 'fetched'>): IncomingOffer {
    const made: IncomingOffer = { ...o, id: this.#next++, fetched: new Set() };
    this.#in.set(made.id, made);
    if (this.#in.size > this.#max) this.#in.delete(this.#in.keys().next().value as number);
    return made;
  }

  /** The file a request from `address` may have, or `undefined`: not offered to it, or not as that kind. */
  find(address: string, r: IpmsgFileRequest): { offer: OutgoingOffer; file: OfferedFile } | undefined {
    for (const offer of this.#out.values()) {
      if (offer.packetNo !== r.packetNo || offer.address !== address) continue;
      const file = offer.files.get(r.fileId);
      return file !== undefined && file.kind === r.kind ? { offer, file } : undefined;
    }
    return undefined;
  }

  /** A file was sent whole: it is no longer offered, nor the offer once it is empty. */
  fetched(offer: OutgoingOffer, fileId: number): void {
    offer.files.delete(fileId);
    if (offer.files.size === 0) this.#out.delete(offer.id);
  }

  /** The peer at `address` declined (RELEASEFILES): forgets that offer. True if there was one. */
  release(address: string, packetNo: number): OutgoingOffer | undefined {
    for (const offer of this.#out.values()) {
      if (offer.packetNo === packetNo && offer.address === address) {
        this.#out.delete(offer.id);
        return offer;
      }
    }
    return undefined;
  }

  /** Our offer numbered `id`, if still open. */
  outgoing(id: number): OutgoingOffer | undefined {
    return this.#out.get(id);
  }

  /** The offer to us numbered `id`, if still kept. */
  incoming(id: number): IncomingOffer | undefined {
    return this.#in.get(id);
  }

  /** Forgets an offer either way (`/cancel`); returns which one it was. */
  cancel(id: number): OutgoingOffer | IncomingOffer | undefined {
    const o = this.#out.get(id) ?? this.#in.get(id);
    this.#out.delete(id);
    this.#in.delete(id);
    return o;
  }

  /** Offers we made that are still open. */
  get open(): number {
    return this.#out.size;
  }
}
