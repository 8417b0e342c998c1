/** What one line typed (or piped) into `udpkit chat` asks for. */
import { CHAT_FILE_HELP, parseFileCommand, type ChatFileCommand } from './chat-file-input.js';

/** A line, understood. */
export type ChatCommand =
  /** Plain text: to every known peer. */
  | { readonly kind: 'say'; readonly text: string }
  /** `/msg NAME TEXT`: to the peers called NAME, with a receipt. */
  | { readonly kind: 'msg'; readonly to: string; readonly text: string; readonly sealed: boolean }
  /** `/away [TEXT]`: away, answering messages with TEXT; `/back`: present again. */
  | { readonly kind: 'away'; readonly text: string }
  | { readonly kind: 'back' }
  /** `/open N`: show sealed message N (and tell its sender); `/open` alone lists them. */
  | { readonly kind: 'open'; readonly id: number | undefined }
  /** `/info NAME`: ask NAME's client for its version and absence text. */
  | { readonly kind: 'info'; readonly to: string }
  | { readonly kind: 'who' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'help' }
  | { readonly kind: 'none' }
  | { readonly kind: 'error'; readonly message: string }
  | ChatFileCommand;

/** The help `/help` shows. */
export const CHAT_HELP: readonly string[] = [
  'text              send to everyone here',
  '/msg NAME TEXT    send to NAME alone, with a receipt (NAME may be "quoted", or an address)',
  '/seal NAME TEXT   send a sealed message: NAME sees it only when opening it, and you are told',
  '/open [N]         open sealed message N (and tell its sender); without N, list them',
  '/away [TEXT]      be away: messages to you alone get TEXT as an automatic answer',
  '/back             be back',
  '/info NAME        ask NAME\'s client for its version and absence text',
  '/who              list who is here (with groups, and who is away)',
  ...CHAT_FILE_HELP,
  '/quit             leave (also Ctrl-C, or Ctrl-D)',
  '//text            send text that starts with "/"',
];

/**
 * Parses one input line.
 * @example parseChatLine('/msg "Bob Smith" hi there') // { kind: 'msg', to: 'Bob Smith', text: 'hi there' }
 */
export function parseChatLine(line: string): ChatCommand {
  const text = line.replace(/\r$/, '');
  if (text.trim() === '') return { kind: 'none' };
  if (text.startsWith('//')) return { kind: 'say', text: text.slice(1) };
  if (!text.startsWith('/')) return { kind: 'say', text };
  const m = /^\/(\S+)\s*(.*)$/s.exec(text);
  const verb = m?.[1]?.toLowerCase() ?? '';
  const rest = m?.[2] ?? '';
  switch (verb) {
    case 'who':
      return { kind: 'who' };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'msg':
    case 'seal': {
      const { to, text: body } = nameAndText(rest);
      if (to === undefined || body === '') return { kind: 'error', message: `usage: /${verb} NAME TEXT` };
      return { kind: 'msg', to, text: body, sealed: verb === 'seal' };
    }
    case 'away':
      return { kind: 'away', text: rest.trim() };
    case 'back':
      return { kind: 'back' };
    case 'open': {
      if (rest.trim() === '') return { kind: 'open', id: undefined };
      if (!/^\d{1,9}$/.test(rest.trim())) return { kind: 'error', message: 'usage: /open [N] (N: the number shown with the sealed message)' };
      return { kind: 'open', id: Number(rest.trim()) };
    }
    case 'info': {
      const { to } = nameAndText(rest);
      if (to === undefined) return { kind: 'error', message: 'usage: /info NAME' };
      return { kind: 'info', to };
    }
    case 'send':
    case 'get':
    case 'cancel':
      return parseFileCommand(verb, rest);
    default:
      return { kind: 'error', message: `unknown command /${verb} (try /help)` };
  }
}

/** A NAME (maybe "quoted") and the text after it. */
function nameAndText(rest: string): { to: string | undefined; text: string } {
  const target = /^"([^"]+)"\s*(.*)$/s.exec(rest) ?? /^(\S+)\s*(.*)$/s.exec(rest);
  return { to: target?.[1], text: target?.[2] ?? '' };
}
