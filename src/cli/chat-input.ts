/** What one line typed (or piped) into `udpkit chat` asks for. */
import { CHAT_FILE_HELP, parseFileCommand, type ChatFileCommand } from './chat-file-input.js';

/** A line, understood. */
export type ChatCommand =
  /** Plain text: to every known peer. */
  | { readonly kind: 'say'; readonly text: string }
  /** `/msg NAME TEXT`: to the peers called NAME, with a receipt. */
  | { readonly kind: 'msg'; readonly to: string; readonly text: string }
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
  '/who              list who is here',
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
    case 'msg': {
      const target = /^"([^"]+)"\s*(.*)$/s.exec(rest) ?? /^(\S+)\s*(.*)$/s.exec(rest);
      const to = target?.[1];
      const body = target?.[2] ?? '';
      if (to === undefined || body === '') return { kind: 'error', message: 'usage: /msg NAME TEXT' };
      return { kind: 'msg', to, text: body };
    }
    case 'send':
    case 'get':
    case 'cancel':
      return parseFileCommand(verb, rest);
    default:
      return { kind: 'error', message: `unknown command /${verb} (try /help)` };
  }
}
