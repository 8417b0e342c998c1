/**
 * `udpkit chat`'s file commands carried out, and file events shown: the CLI side of
 * transport/chat-files.ts. Failures of a command are notices, never the end of the chat.
 */
import { resolve } from 'node:path';
import { isUdpkitError } from '../errors.js';
import { sanitizeText } from '../format/sanitize.js';
import type { Chat } from '../transport/chat.js';
import type { ChatFileEvent } from '../transport/chat-files.js';
import type { ChatFileCommand } from './chat-file-input.js';
import type { ChatUi } from './chat-ui.js';

/** Where `/get` saves without a DIR, and whether it may replace files. */
export interface FileSettings {
  readonly downloadDir: string;
  readonly overwrite: boolean;
}

const FILE_EVENTS = ['offer', 'offered', 'progress', 'received', 'served', 'failed', 'released'] as const;

/** Shows every file event of `c` through `ui`; calls `changed` after each (to settle on EOF). */
export function showFileEvents(c: Chat, ui: ChatUi, changed: () => void): void {
  for (const type of FILE_EVENTS) {
    c.files?.on(type, (e: ChatFileEvent) => {
      ui.fileEvent(e);
      changed();
    });
  }
}

function fail(ui: ChatUi, what: string, err: unknown): void {
  if (!isUdpkitError(err)) throw err;
  ui.notice(`${what}: ${err.message}`);
}

/** Carries out `/send`, `/get` or `/cancel`. `busy` tracks commands still running (for EOF). */
export function performFileCommand(cmd: ChatFileCommand, c: Chat, ui: ChatUi, settings: FileSettings, busy: { count: number }, done: () => void): void {
  const track = (p: Promise<unknown>, what: string): void => {
    busy.count++;
    void p
      .catch((err: unknown) => fail(ui, what, err))
      .finally(() => {
        busy.count--;
        done();
      });
  };
  switch (cmd.kind) {
    case 'send': {
      const to = c.find(cmd.to);
      if (to.length !== 1) {
        ui.notice(to.length === 0 ? `nobody called ${sanitizeText(cmd.to)} here (see /who): not offered` : `${to.length} peers are called ${sanitizeText(cmd.to)}: name one by address`);
        return;
      }
      track(c.sendFiles(to[0]!, cmd.paths.map((p) => resolve(p))), 'not offered');
      return;
    }
    case 'get':
      if (c.files === undefined) return ui.notice('file transfer is off with --key (TCP is not sealed)');
      track(c.files.get(cmd.id, resolve(cmd.dir ?? settings.downloadDir), settings.overwrite), `cannot get ${cmd.id}`);
      return;
    case 'cancel':
      if (!c.cancelFiles(cmd.id)) ui.notice(`no offer ${cmd.id}`);
      else ui.notice(`offer ${cmd.id} cancelled`);
      return;
  }
}
