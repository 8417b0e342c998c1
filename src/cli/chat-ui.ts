/**
 * The two faces of `udpkit chat`: a prompt for a person at a terminal, and JSON lines for a
 * script (stdin not a terminal, or --json). Both read commands line by line from stdin.
 */
import readline from 'node:readline';
import { chatEventJson, clockTime, formatChatEvent, formatPeerList, peersJson } from '../format/chat.js';
import { chatFileEventJson, formatChatFileEvent } from '../format/chat-files.js';
import type { ChatFileEvent } from '../transport/chat-files.js';
import { sanitizeText } from '../format/sanitize.js';
import type { IpmsgEvent, IpmsgPeer } from '../protocol/ipmsg-session.js';
import { CHAT_HELP } from './chat-input.js';
import type { CliIo } from './io.js';

/** What the command shows, and where its input comes from. */
export interface ChatUi {
  /** Bound and announced on `port`. */
  ready(port: number): void;
  event(e: IpmsgEvent, peers: readonly IpmsgPeer[]): void;
  /** Offers, progress, files received or sent, failures. */
  fileEvent(e: ChatFileEvent): void;
  /** The answer to `/who`. */
  peers(peers: readonly IpmsgPeer[]): void;
  /** Something the user should know that is not an event (a typo, nobody to send to). */
  notice(text: string): void;
  help(): void;
  /** Input lines; `end` on EOF; `interrupt` on Ctrl-C typed at the prompt. */
  readonly input: readline.Interface;
  /** Stops reading and resolves once everything shown has been written. */
  close(): Promise<void>;
}

function flushed(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => out.write('', () => resolve()));
}

/** JSON lines on stdout, diagnostics on stderr. */
export function jsonUi(io: CliIo): ChatUi {
  const input = readline.createInterface({ input: io.stdin, terminal: false, crlfDelay: Infinity });
  const line = (s: string): void => void io.stdout.write(s + '\n');
  return {
    input,
    ready: (port) => line(JSON.stringify({ event: 'ready', port })),
    event: (e) => line(chatEventJson(e)),
    fileEvent: (e) => {
      const json = chatFileEventJson(e);
      if (json !== undefined) line(json);
    },
    peers: (peers) => line(peersJson(peers)),
    notice: (text) => void io.stderr.write(`udpkit: ${text}\n`),
    help: () => void io.stderr.write(CHAT_HELP.join('\n') + '\n'),
    async close() {
      input.close();
      await flushed(io.stdout);
    },
  };
}

/** A prompt; events print above it without disturbing what is being typed. */
export function terminalUi(io: CliIo, name: string): ChatUi {
  const out = io.stdout;
  const input = readline.createInterface({ input: io.stdin, output: out, terminal: out.isTTY === true, prompt: `${sanitizeText(name)}> ` });
  let closed = false;
  input.once('close', () => (closed = true));
  const print = (lines: readonly string[]): void => {
    if (closed) {
      out.write(lines.join('\n') + '\n');
      return;
    }
    readline.clearLine(out, 0);
    readline.cursorTo(out, 0);
    out.write(lines.join('\n') + '\n');
    input.prompt(true);
  };
  const now = (): string => clockTime(new Date());
  return {
    input,
    ready: () => {
      print(['type a message for everyone, /msg NAME TEXT for one person, /send NAME FILE, /who, /help, /quit']);
    },
    event: (e, peers) => print([formatChatEvent(e, now(), peers)]),
    fileEvent: (e) => {
      const text = formatChatFileEvent(e);
      if (text !== undefined) print([`[${now()}] ${text}`]);
    },
    peers: (peers) => print(formatPeerList(peers)),
    notice: (text) => print([`* ${text}`]),
    help: () => print([...CHAT_HELP]),
    async close() {
      if (!closed) {
        out.write('\n');
        input.close();
      }
      await flushed(out);
    },
  };
}
