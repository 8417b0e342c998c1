/**
 * The folder stream of IP Messenger's GETDIRFILES (docs/protocol.md, "Files and folders"): the
 * offered folder, its contents depth first, each entry a header and (for files) its bytes:
 *
 *   header-size:filename:file-size:fileattr[:extattr=value...]:<file-size bytes>
 *   001c:photos:0:2:14=65f0c3a2:  001b:a.jpg:5:1:14=65f0c3a2:HELLO  000b:.:0:3:
 *
 * header-size (hex) counts the header's bytes from its first digit to its last colon; sizes and
 * attributes are hex; a colon in a name is doubled; RETPARENT (attribute 3) closes a folder. The
 * stream ends when the first folder is closed. Pure: bytes in, items out, never throws.
 */
import { IPMSG_FILE_MTIME, IpmsgFileKind } from './ipmsg-attach.js';

/** A header longer than this is not one (real ones are under 300 bytes). */
export const MAX_DIR_HEADER = 8192;
/** Folders nested deeper than this end the stream as malformed. */
export const MAX_DIR_DEPTH = 64;

/**
 * Encodes one header. `kind` `'up'` is the RETPARENT that closes the current folder.
 * @example dirHeader({ name: 'a.jpg', size: 5, kind: 'file', mtime: 0x65f0c3a2 }).toString() // '001b:a.jpg:5:1:14=65f0c3a2:'
 */
export function dirHeader(e: { readonly name: string; readonly size: number; readonly kind: 'file' | 'dir' | 'up'; readonly mtime?: number }): Buffer {
  const attr = e.kind === 'file' ? IpmsgFileKind.REGULAR : e.kind === 'dir' ? IpmsgFileKind.DIR : IpmsgFileKind.RETPARENT;
  const mtime = e.mtime === undefined ? '' : `${IPMSG_FILE_MTIME.toString(16)}=${Math.max(0, Math.floor(e.mtime)).toString(16)}:`;
  const body = Buffer.from(`:${e.name.replace(/:/g, '::')}:${e.size.toString(16)}:${attr.toString(16)}:${mtime}`, 'utf8');
  let digits = 4;
  while ((body.length + digits).toString(16).length > digits) digits++;
  return Buffer.concat([Buffer.from((body.length + digits).toString(16).padStart(digits, '0'), 'latin1'), body]);
}

/** What the stream says, in order. `data` items follow their `file` until `size` bytes came. */
export type DirStreamItem =
  | { readonly type: 'dir'; readonly name: string; readonly mtime?: number }
  | { readonly type: 'file'; readonly name: string; readonly size: number; readonly mtime?: number }
  | { readonly type: 'data'; readonly bytes: Buffer }
  /** The current file's bytes all came. */
  | { readonly type: 'file-end' }
  | { readonly type: 'up' }
  /** The offered folder is closed: nothing more is expected. */
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly reason: string };

function splitEscaped(text: string): string[] {
  const out: string[] = [];
  let f = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ':') f += text[i];
    else if (text[i + 1] === ':') (f += ':'), i++;
    else out.push(f), (f = '');
  }
  out.push(f);
  return out;
}

/**
 * Reads a folder stream chunk by chunk.
 * @example
 * const d = new DirStreamDecoder();
 * socket.on('data', (chunk) => { for (const item of d.push(chunk)) handle(item); });
 */
export class DirStreamDecoder {
  #pending: Buffer = Buffer.alloc(0);
  #left = 0;
  #depth = 0;
  #state: 'header' | 'data' | 'done' | 'failed' = 'header';
  readonly #decode: (bytes: Buffer) => string;

  /** `decode` reads header bytes as text (default UTF-8; pass the peer's legacy encoding). */
  constructor(decode: (bytes: Buffer) => string = (b) => b.toString('utf8')) {
    this.#decode = decode;
  }

  /** `'done'` after `end`, `'failed'` after `error`. */
  get state(): 'header' | 'data' | 'done' | 'failed' {
    return this.#state;
  }

  /** Takes the next bytes; returns what they complete. Bytes after `end` or `error` are ignored. */
  push(chunk: Buffer): DirStreamItem[] {
    const out: DirStreamItem[] = [];
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = Buffer.alloc(0);
    while (buf.length > 0 && (this.#state === 'header' || this.#state === 'data')) {
      if (this.#state === 'data') {
        const take = Math.min(this.#left, buf.length);
        out.push({ type: 'data', bytes: buf.subarray(0, take) });
        buf = buf.subarray(take);
        this.#left -= take;
        if (this.#left === 0) this.#fileEnd(out);
        continue;
      }
      const colon = buf.indexOf(0x3a);
      if (colon < 0 || colon > 8) {
        if (colon > 8 || buf.length > 8) return this.#fail(out, 'bad header size');
        this.#pending = Buffer.from(buf);
        return out;
      }
      const size = /^[0-9a-fA-F]{1,8}$/.test(buf.toString('latin1', 0, colon)) ? parseInt(buf.toString('latin1', 0, colon), 16) : NaN;
      if (!(size > colon + 1) || size > MAX_DIR_HEADER) return this.#fail(out, 'bad header size');
      if (buf.length < size) {
        this.#pending = Buffer.from(buf);
        return out;
      }
      if (buf[size - 1] !== 0x3a) return this.#fail(out, 'header does not end with ":"');
      if (!this.#header(this.#decode(buf.subarray(colon + 1, size - 1)), out)) return out;
      buf = buf.subarray(size);
    }
    return out;
  }

  #fileEnd(out: DirStreamItem[]): void {
    out.push({ type: 'file-end' });
    this.#state = 'header';
    // A file offered alone in a folder stream would end it here; only folders open a level.
    if (this.#depth === 0) this.#end(out);
  }

  #end(out: DirStreamItem[]): void {
    out.push({ type: 'end' });
    this.#state = 'done';
  }

  #header(text: string, out: DirStreamItem[]): boolean {
    const [name = '', sizeText = '', attrText = '', ...ext] = splitEscaped(text);
    const size = /^[0-9a-fA-F]{1,13}$/.test(sizeText) ? parseInt(sizeText, 16) : NaN;
    const attr = /^[0-9a-fA-F]{1,8}$/.test(attrText) ? parseInt(attrText, 16) : NaN;
    if (Number.isNaN(size) || Number.isNaN(attr)) return this.#refuse(out, 'bad header fields');
    const m = ext.map((x) => /^([0-9a-fA-F]+)=([0-9a-fA-F]{1,13})$/.exec(x)).find((x) => x !== null && parseInt(x[1] as string, 16) === IPMSG_FILE_MTIME);
    const mtime = m ? { mtime: parseInt(m[2] as string, 16) } : {};
    switch (attr & 0xff) {
      case IpmsgFileKind.REGULAR:
        out.push({ type: 'file', name, size, ...mtime });
        this.#left = size;
        if (size === 0) this.#fileEnd(out);
        else this.#state = 'data';
        return true;
      case IpmsgFileKind.DIR:
        if (++this.#depth > MAX_DIR_DEPTH) return this.#refuse(out, `folders nested deeper than ${MAX_DIR_DEPTH}`);
        out.push({ type: 'dir', name, ...mtime });
        return true;
      case IpmsgFileKind.RETPARENT:
        if (this.#depth === 0) return this.#refuse(out, 'RETPARENT outside a folder');
        out.push({ type: 'up' });
        if (--this.#depth === 0) this.#end(out);
        return true;
      default:
        // Other kinds (symlinks, devices in some clients) carry no bytes we want: skip them.
        if (size > 0) return this.#refuse(out, `entry of kind ${attr & 0xff} with data`);
        return true;
    }
  }

  /** Fails the stream; false, for `#header` to return. */
  #refuse(out: DirStreamItem[], reason: string): false {
    this.#fail(out, reason);
    return false;
  }

  #fail(out: DirStreamItem[], reason: string): DirStreamItem[] {
    out.push({ type: 'error', reason });
    this.#state = 'failed';
    return out;
  }
}
