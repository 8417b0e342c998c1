/**
 * IP Messenger file transfer texts (docs/protocol.md, "Files and folders"). Pure string codecs.
 *
 * The attachment list follows the message text and its NUL in a SENDMSG carrying FILEATTACHOPT,
 * one entry per file, entries ended by BEL (0x07); numbers but the id are hex, a colon inside a
 * name is doubled:
 *
 *   fileID:filename:size:mtime:attr[:extattr=value...]:\a
 *   0:report::v2.pdf:1a2b:65f0c3a1:1:\a1:photos:0:65f0c3a2:2:\a
 *
 * Requests go over TCP to the sender's port, as IPMsg packets whose Extra is, all in hex:
 * GETFILEDATA `packetNo:fileID:offset:`, GETDIRFILES `packetNo:fileID:`. RELEASEFILES (UDP)
 * carries the offer's packet number in decimal.
 */

/** The commands of file transfer (the low byte of CommandNo). */
export const IpmsgFileCommand = {
  GETFILEDATA: 0x60,
  RELEASEFILES: 0x61,
  GETDIRFILES: 0x62,
} as const;

/** On SENDMSG: an attachment list follows the text. */
export const FILEATTACHOPT = 0x00200000;

/** The low byte of an entry's attributes: what it is. */
export const IpmsgFileKind = {
  REGULAR: 0x1,
  DIR: 0x2,
  /** In a folder stream: back up one level. */
  RETPARENT: 0x3,
} as const;

/** The extended attribute id of the modification time (hex seconds) in folder streams. */
export const IPMSG_FILE_MTIME = 0x14;

/** One offered file or folder, as the attachment list carries it. */
export interface IpmsgAttachment {
  /** The sender's number for it (decimal in the list, hex in requests). */
  readonly id: number;
  /** As sent: may hold anything but NUL, including separators; sanitize before use. */
  readonly name: string;
  /** Bytes; 0 for a folder. */
  readonly size: number;
  /** Seconds since 1970. */
  readonly mtime: number;
  /** `'file'` or `'dir'` (attribute low byte 1 or 2). */
  readonly kind: 'file' | 'dir';
}

const BEL = '\x07';
const HEX = /^[0-9a-fA-F]{1,16}$/;
const DEC = /^\d{1,10}$/;

/** Splits at single colons; `::` stands for a colon inside a field. */
function splitFields(entry: string): string[] {
  const out: string[] = [];
  let field = '';
  for (let i = 0; i < entry.length; i++) {
    const c = entry[i] as string;
    if (c !== ':') field += c;
    else if (entry[i + 1] === ':') {
      field += ':';
      i++;
    } else {
      out.push(field);
      field = '';
    }
  }
  out.push(field);
  return out;
}

function hex(text: string | undefined): number | undefined {
  if (text === undefined || !HEX.test(text)) return undefined;
  const n = parseInt(text, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Encodes an attachment list (what follows the message text and its NUL).
 * @example encodeAttachments([{ id: 0, name: 'a:b.txt', size: 26, mtime: 0x65f0c3a1, kind: 'file' }])
 * // '0:a::b.txt:1a:65f0c3a1:1:\x07'
 */
export function encodeAttachments(files: readonly IpmsgAttachment[]): string {
  return files
    .map((f) => `${f.id}:${f.name.replace(/:/g, '::')}:${f.size.toString(16)}:${Math.max(0, Math.floor(f.mtime)).toString(16)}:${(f.kind === 'dir' ? IpmsgFileKind.DIR : IpmsgFileKind.REGULAR).toString(16)}:${BEL}`)
    .join('');
}

/**
 * Reads an attachment list; entries that do not parse, or are neither file nor folder, are left
 * out (a client's extension must not hide the rest). Never throws.
 * @example decodeAttachments('0:a::b.txt:1a:65f0c3a1:1:\x07')[0]?.name // 'a:b.txt'
 */
export function decodeAttachments(list: string): IpmsgAttachment[] {
  const out: IpmsgAttachment[] = [];
  for (const raw of list.split(BEL)) {
    // Some clients put the separator before the colon (`...:1\a:1:...`): tolerate both.
    const entry = raw.replace(/^:/, '').replace(/\0+$/, '');
    if (entry === '') continue;
    const [id, name, size, mtime, attr] = splitFields(entry);
    const kindBits = hex(attr);
    const n = { size: hex(size), mtime: hex(mtime) ?? 0 };
    if (id === undefined || !DEC.test(id) || name === undefined || name === '' || n.size === undefined || kindBits === undefined) continue;
    const low = kindBits & 0xff;
    if (low !== IpmsgFileKind.REGULAR && low !== IpmsgFileKind.DIR) continue;
    out.push({ id: Number(id), name, size: low === IpmsgFileKind.DIR ? 0 : n.size, mtime: n.mtime, kind: low === IpmsgFileKind.DIR ? 'dir' : 'file' });
  }
  return out;
}

/** A TCP request: GETFILEDATA (with an offset) or GETDIRFILES. */
export interface IpmsgFileRequest {
  readonly kind: 'file' | 'dir';
  /** The packet number of the SENDMSG that offered it. */
  readonly packetNo: number;
  readonly fileId: number;
  /** Where to start (GETFILEDATA only; 0 for folders). */
  readonly offset: number;
}

/**
 * The Extra of a request. Hex throughout, with the trailing colon later clients add.
 * @example fileRequestExtra({ kind: 'file', packetNo: 255, fileId: 1, offset: 4096 }) // 'ff:1:1000:'
 */
export function fileRequestExtra(r: IpmsgFileRequest): string {
  const head = `${r.packetNo.toString(16)}:${r.fileId.toString(16)}:`;
  return r.kind === 'file' ? `${head}${r.offset.toString(16)}:` : head;
}

/**
 * Reads a request's Extra for `command` (GETFILEDATA or GETDIRFILES), or `undefined`. Extra
 * fields after the ones it needs (newer clients add some) are ignored.
 * @example parseFileRequest(0x60, 'ff:1:1000:') // { kind: 'file', packetNo: 255, fileId: 1, offset: 4096 }
 */
export function parseFileRequest(command: number, extra: string): IpmsgFileRequest | undefined {
  const cmd = command & 0xff;
  if (cmd !== IpmsgFileCommand.GETFILEDATA && cmd !== IpmsgFileCommand.GETDIRFILES) return undefined;
  const [p, f, o] = extra.replace(/\0[\s\S]*$/, '').split(':');
  const packetNo = hex(p);
  const fileId = hex(f);
  if (packetNo === undefined || fileId === undefined) return undefined;
  if (cmd === IpmsgFileCommand.GETDIRFILES) return { kind: 'dir', packetNo, fileId, offset: 0 };
  const offset = hex(o);
  return offset === undefined ? undefined : { kind: 'file', packetNo, fileId, offset };
}
