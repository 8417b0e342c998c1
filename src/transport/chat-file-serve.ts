/**
 * Sends one offered file or folder down a TCP connection, for `udpkit chat`'s file server
 * (./chat-files.ts, which has already checked that the request names an offer made to the
 * connection's address). Nothing outside what was offered is ever opened: files are opened with
 * O_NOFOLLOW and must still resolve inside the offered path; inside a folder, symbolic links and
 * anything that is neither file nor folder are skipped (and counted), never followed.
 *
 * Bytes in flight are bounded twice: each transfer waits while its socket holds
 * {@link SOCKET_HIGH_WATER} unsent bytes, and every chunk read is charged to a {@link MemoryBudget}
 * shared by all transfers ({@link BudgetGate}) until the socket has written it.
 */
import { constants, type Stats } from 'node:fs';
import { open, readdir, realpath, lstat, type FileHandle } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join, sep } from 'node:path';
import { dirHeader, MAX_DIR_DEPTH } from '../protocol/ipmsg-dir-stream.js';
import type { OfferedFile } from '../protocol/ipmsg-files.js';
import type { MemoryBudget } from '../protocol/memory-budget.js';

/** Read size: large enough that a 100 MB file is a hundred system calls, not thousands. */
export const CHUNK = 1 << 20;
/** Unsent bytes one socket may hold before its transfer waits for `drain`. */
export const SOCKET_HIGH_WATER = 4 << 20;

/** What a transfer needs besides the socket and the file. */
export interface ServeContext {
  readonly gate: BudgetGate;
  /**
   * Called as bytes are handed to the kernel (a write's callback without error): for progress,
   * and so that a transfer whose bytes all went out counts as served even if the receiver
   * closed before our end of the connection did.
   */
  readonly onBytes: (n: number) => void;
  /** A symlink or special file skipped inside a folder. */
  readonly onSkipped: (path: string) => void;
}

/** A file that is not what was offered any more (a symlink now, or outside): refused. */
export class Unsafe extends Error {}

/** A {@link MemoryBudget} that transfers wait on: `take` resolves once the bytes fit and are charged. */
export class BudgetGate {
  readonly #budget: MemoryBudget;
  readonly #waiting: Array<() => void> = [];

  constructor(budget: MemoryBudget) {
    this.#budget = budget;
  }

  /** Bytes charged now. */
  get used(): number {
    return this.#budget.used;
  }

  async take(n: number): Promise<void> {
    while (!this.#budget.fits(n)) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#budget.charge(n);
  }

  release(n: number): void {
    this.#budget.release(n);
    // Wake them all: each checks again, in order, and the ones that still do not fit wait again.
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return reject(new Error('connection closed'));
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      if (socket.destroyed) reject(new Error('connection closed'));
      else resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Copies `length` bytes of `fh` from `position` to the socket. */
async function pump(fh: FileHandle, position: number, length: number, socket: Socket, ctx: ServeContext): Promise<void> {
  let pos = position;
  const end = position + length;
  // Chunks come back here once written and are read into again: RSS stays near the bytes in
  // flight instead of growing by garbage buffers until the next GC (28 MB for a 64 MB file).
  const free: Buffer[] = [];
  while (pos < end) {
    if (socket.destroyed) throw new Error('connection closed');
    if (socket.writableLength >= SOCKET_HIGH_WATER) await drained(socket);
    const n = Math.min(CHUNK, end - pos);
    await ctx.gate.take(n);
    const buf = n === CHUNK ? (free.pop() ?? Buffer.allocUnsafe(CHUNK)) : Buffer.allocUnsafe(n);
    let got: number;
    try {
      got = (await fh.read(buf, 0, n, pos)).bytesRead;
      if (got === 0) throw new Error('the file got shorter while being sent');
      if (socket.destroyed) throw new Error('connection closed');
    } catch (err) {
      ctx.gate.release(n);
      throw err;
    }
    pos += got;
    // The callback runs once the bytes are written, or with an error when the socket is destroyed.
    socket.write(buf.subarray(0, got), (err) => {
      ctx.gate.release(n);
      if (buf.length === CHUNK) free.push(buf);
      if (!err) ctx.onBytes(got);
    });
  }
}

/** Opens a file without following a link in its last component and checks it lies inside `root`. */
async function openInside(path: string, root: string): Promise<{ fh: FileHandle; st: Stats }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Unsafe(`${path} is a symbolic link now`);
    throw err;
  }
  const st = await fh.stat();
  const real = await realpath(path).catch(() => '');
  if (!st.isFile() || (real !== root && !real.startsWith(root + sep))) {
    await fh.close();
    throw new Unsafe(`${path} is not the file that was offered`);
  }
  return { fh, st };
}

/**
 * Sends an offered file from `offset` to its offered size (GETFILEDATA: raw bytes, no header).
 * @throws {@link Unsafe} when the path no longer is that file; I/O errors as they come.
 */
export async function serveFile(file: OfferedFile, offset: number, socket: Socket, ctx: ServeContext): Promise<number> {
  const { fh, st } = await openInside(file.path, file.path);
  try {
    const size = Math.min(file.size, st.size);
    if (offset > size) return 0;
    await pump(fh, offset, size - offset, socket, ctx);
    return size - offset;
  } finally {
    await fh.close();
  }
}

async function write(socket: Socket, data: Buffer, ctx: ServeContext): Promise<void> {
  if (!socket.write(data, (err) => !err && ctx.onBytes(data.length))) await drained(socket);
}

/** Sends the folder `path` (named `name`) and everything below it as a GETDIRFILES stream; returns the bytes queued. */
async function sendDir(path: string, name: string, root: string, depth: number, socket: Socket, ctx: ServeContext): Promise<number> {
  const real = await realpath(path);
  if (real !== root && !real.startsWith(root + sep)) throw new Unsafe(`${path} is outside the offered folder`);
  const st = await lstat(path);
  const open = dirHeader({ name, size: 0, kind: 'dir', mtime: st.mtimeMs / 1000 });
  await write(socket, open, ctx);
  let bytes = open.length;
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory() && depth + 1 < MAX_DIR_DEPTH) bytes += await sendDir(p, e.name, root, depth + 1, socket, ctx);
    else if (e.isFile()) {
      const { fh, st: fst } = await openInside(p, root);
      try {
        const head = dirHeader({ name: e.name, size: fst.size, kind: 'file', mtime: fst.mtimeMs / 1000 });
        await write(socket, head, ctx);
        await pump(fh, 0, fst.size, socket, ctx);
        bytes += head.length + fst.size;
      } finally {
        await fh.close();
      }
    } else ctx.onSkipped(p);
  }
  const close = dirHeader({ name: '.', size: 0, kind: 'up', mtime: st.mtimeMs / 1000 });
  await write(socket, close, ctx);
  return bytes + close.length;
}

/** Sends an offered folder (GETDIRFILES); returns the bytes queued, headers included. */
export function serveDir(file: OfferedFile, socket: Socket, ctx: ServeContext): Promise<number> {
  return sendDir(file.path, file.name, file.path, 0, socket, ctx);
}
