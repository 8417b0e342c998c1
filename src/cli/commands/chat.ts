/**
 * `udpkit chat`: a LAN messenger that speaks IP Messenger (IPMsg) on port 2425. At a terminal:
 * a prompt. Otherwise (or with --json): commands from stdin, one JSON event per line on stdout.
 */
import os from 'node:os';
import { describeErrno, errnoOf, isUdpkitError, UsageError } from '../../errors.js';
import { formatChatSummary } from '../../format/chat.js';
import { sanitizeText } from '../../format/sanitize.js';
import { IPMSG_PORT, validateLegacyEncoding } from '../../protocol/ipmsg-packet.js';
import type { IpmsgEndpoint, IpmsgEvent } from '../../protocol/ipmsg-session.js';
import { resolveHost } from '../../socket/resolve.js';
import { chat, type Chat } from '../../transport/chat.js';
import { parseHostPort, validateInteger, validatePort } from '../../validate.js';
import { parseChatLine, type ChatCommand } from '../chat-input.js';
import { performFileCommand, showFileEvents, type FileSettings } from '../chat-file-run.js';
import { anyFileActivity, formatFileSummary } from '../../format/chat-files.js';
import { jsonUi, terminalUi, type ChatUi } from '../chat-ui.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { VERSION } from '../version.js';
import type { ChatOptions } from './chat.options.js';

const EVENTS = ['join', 'leave', 'message', 'delivered', 'undelivered', 'sealed', 'read', 'absence', 'info'] as const;

function defaultName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'udpkit';
  }
}

function parse(opts: ChatOptions, io: CliIo) {
  const name = opts.name ?? defaultName();
  if (name.trim() === '' || /[\x00-\x1f\x7f]/.test(name) || name.length > 100) {
    throw new UsageError(`--name takes 1 to 100 printable characters, got ${JSON.stringify(name)}`);
  }
  const port = validatePort(opts.port, { allowZero: true, name: '--port' });
  const group = opts.group ?? '';
  if (/[\x00-\x1f\x7f]/.test(group) || group.length > 100) throw new UsageError(`--group takes up to 100 printable characters, got ${JSON.stringify(group)}`);
  return {
    name,
    group,
    port,
    legacyEncoding: validateLegacyEncoding(opts.legacyEncoding),
    json: opts.json === true || io.stdin.isTTY !== true,
    broadcast: opts.broadcast,
    peers: (opts.peer ?? []).map((p) => parseHostPort(p, port || IPMSG_PORT)),
    files: { downloadDir: opts.downloadDir ?? '.', overwrite: opts.overwrite === true } satisfies FileSettings,
    maxTransfers: opts.maxTransfers === undefined ? undefined : validateInteger(opts.maxTransfers, { name: '--max-transfers', min: 1, max: 1000 }),
  } as const;
}

/** Carries out one typed command. */
function perform(cmd: ChatCommand, c: Chat, ui: ChatUi, quit: () => void, files: (cmd: Extract<ChatCommand, { kind: 'send' | 'get' | 'cancel' }>) => void): void {
  try {
    switch (cmd.kind) {
      case 'say':
        if (c.peers().length === 0) ui.notice('nobody here yet: not sent');
        else c.send(cmd.text, 'all');
        return;
      case 'msg': {
        const to = c.find(cmd.to);
        if (to.length === 0) ui.notice(`nobody called ${sanitizeText(cmd.to)} here (see /who): not sent`);
        else c.send(cmd.text, to, { sealed: cmd.sealed });
        return;
      }
      case 'away':
      case 'back':
        c.setAbsence(cmd.kind === 'away' ? cmd.text : undefined);
        return ui.notice(c.absence === undefined ? 'you are back' : `you are away: "${sanitizeText(c.absence)}" answers messages sent to you alone`);
      case 'open': {
        const unopened = c.unopened();
        if (cmd.id === undefined) {
          if (unopened.length === 0) return ui.notice('no sealed message waiting');
          return ui.notice(`sealed messages waiting: ${unopened.map((m) => `${m.id} from ${sanitizeText(m.from.name)}`).join(', ')} (/open N)`);
        }
        if (!unopened.some((m) => m.id === cmd.id)) return ui.notice(`no unopened sealed message ${cmd.id} (/open lists them)`);
        return c.open(cmd.id);
      }
      case 'info': {
        const to = c.find(cmd.to);
        if (to.length === 0) return ui.notice(`nobody called ${sanitizeText(cmd.to)} here (see /who)`);
        for (const peer of to) for (const kind of ['version', 'absence'] as const) c.ask(peer, kind);
        return;
      }
      case 'who':
        return ui.peers(c.peers());
      case 'help':
        return ui.help();
      case 'quit':
        return quit();
      case 'error':
        return ui.notice(cmd.message);
      case 'none':
        return;
      case 'send':
      case 'get':
      case 'cancel':
        return files(cmd);
    }
  } catch (err) {
    if (!isUdpkitError(err)) throw err;
    ui.notice(`not sent: ${err.message}`);
  }
}

/** Runs `udpkit chat`. */
export async function run(_args: readonly string[], opts: ChatOptions, io: CliIo): Promise<number> {
  const o = parse(opts, io);
  const key = await keyFrom(opts, io.env);
  const announceTo: IpmsgEndpoint[] = [];
  for (const p of o.peers) announceTo.push({ address: (await resolveHost(p.host, { family: 4 })).address, port: p.port });
  const files = o.maxTransfers === undefined ? {} : { maxTransfers: o.maxTransfers };
  const c = await chat({ nickname: o.name, group: o.group, version: `udpkit ${VERSION}`, port: o.port, legacyEncoding: o.legacyEncoding, broadcast: o.broadcast, announceTo, files, ...(key !== undefined ? { key } : {}) });
  const a = c.address();
  const to = c.targets.length === 0 ? 'no network to announce to (add --peer HOST)' : `announced to ${c.targets.map((t) => `${t.address}:${t.port}`).join(', ')}`;
  const sealed = key === undefined ? '' : '; sealed (--key): only udpkit peers with the same key understand it';
  io.stderr.write(`listening on ${a.address}:${a.port}/udp as ${sanitizeText(o.name)}; ${to}${sealed}\n`);
  const ui = o.json ? jsonUi(io) : terminalUi(io, o.name);
  ui.ready(a.port);

  let failure: string | undefined;
  let inputEnded = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const quit = (): void => resolveDone(EXIT_OK);
  // Once input ends, wait for the receipts of messages still in flight (5 s at most), then go.
  // ...and for file commands and transfers still running.
  const fileCommands = { count: 0 };
  const settle = (): void => {
    if (inputEnded && c.pending === 0 && fileCommands.count === 0 && (c.files?.active ?? 0) === 0) quit();
  };
  const show = (e: IpmsgEvent): void => {
    ui.event(e, c.peers());
    if (e.type === 'delivered' || e.type === 'undelivered') settle();
  };
  for (const type of EVENTS) c.on(type, show);
  showFileEvents(c, ui, settle);
  c.on('error', (err: Error) => {
    failure = `receiving on port ${a.port}/udp failed: ${describeErrno(errnoOf(err))}`;
    resolveDone(EXIT_FAILURE);
  });
  ui.input.on('line', (line: string) => {
    if (!inputEnded) perform(parseChatLine(line), c, ui, quit, (cmd) => performFileCommand(cmd, c, ui, o.files, fileCommands, settle));
  });
  ui.input.on('close', () => {
    inputEnded = true;
    settle();
  });
  ui.input.on('SIGINT', quit);
  const onAbort = (): void => quit();
  if (io.signal.aborted) quit();
  else io.signal.addEventListener('abort', onAbort, { once: true });

  const code = await done;
  io.signal.removeEventListener('abort', onAbort);
  const drops = await c.kernelDrops();
  await c.close();
  await ui.close();
  io.stderr.write(formatChatSummary(c.stats, drops, key !== undefined) + '\n');
  // A chat that never saw a file says nothing of files; a refused request is activity too.
  if (c.files && anyFileActivity(c.files.stats)) io.stderr.write(formatFileSummary(c.files.stats) + '\n');
  if (failure !== undefined) io.stderr.write(`udpkit: ${failure}\n`);
  return code;
}
