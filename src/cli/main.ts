/**
 * The CLI entry: declares every command and its flags, loads the command's module only when it
 * runs (start-up stays close to `node -e 0`), and turns errors into one line and an exit code.
 * Runs in-process with an argument array: `await run(['send', '127.0.0.1', 'hi'], io)`.
 */
import { Command, CommanderError, Option } from 'commander';
import { isUdpkitError, isUsageError } from '../errors.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { cliMessage } from './option-flags.js';
import { guardOutput } from './output-guard.js';
import { versionText } from './version.js';

/** Options as commander hands them over. */
export type Opts = Record<string, unknown>;
/** What every command module exports. */
export type CommandRun = (args: readonly string[], opts: Opts, io: CliIo) => Promise<number>;

type Loader = () => Promise<{ run: CommandRun }>;

/** Commander's way to let a flag repeat: each use adds to the list. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function addKeyFlags(cmd: Command): Command {
  return cmd
    .option('--key <secret>', 'seal datagrams with this shared secret (or set UDPKIT_KEY)')
    .option('--key-file <path>', 'read the shared secret from a file');
}

function addFamilyFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('-4, --ipv4', 'IPv4 only').conflicts('ipv6'))
    .addOption(new Option('-6, --ipv6', 'IPv6 only'));
}

/** Every command's name and aliases, in the order `udpkit --help` lists them. */
const COMMANDS = [['listen', 'receive'], ['send'], ['broadcast'], ['bench'], ['relay'], ['chat'], ['ui'], ['info']] as const;

/**
 * The command `argv` runs when its first word names one: then only that command is declared,
 * since declaring the seven others (a hundred options) is a millisecond of every start-up and
 * nothing of them is shown. Otherwise (help, a typo to suggest a fix for) every command is.
 */
function chosenCommand(argv: readonly string[]): string | undefined {
  return COMMANDS.find((names) => (names as readonly string[]).includes(argv[0] ?? ''))?.[0];
}

function build(io: CliIo, done: (code: number) => void, only?: string): Command {
  const declares = (name: string): boolean => only === undefined || only === name;
  const program = new Command('udpkit')
    .description('UDP messaging: listen, send, broadcast, and this machine\'s addresses')
    .option('-V, --version', 'print the version, and whether the native addon is in use (and why not)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(`udpkit: ${s.trim().replace(/^error: /, '')}\n`),
    });
  // Not commander's .version(): the text says which path runs, worked out only when asked.
  program.on('option:version', () => {
    const text = versionText();
    io.stdout.write(text);
    throw new CommanderError(0, 'commander.version', text);
  });

  const action = (load: Loader) =>
    async function (this: Command, ...params: unknown[]): Promise<void> {
      const cmd = params[params.length - 1] as Command;
      const args = cmd.args;
      const mod = await load();
      done(await mod.run(args, cmd.opts(), io));
    };

  if (declares('listen')) addKeyFlags(addFamilyFlags(
    program
      .command('listen')
      .alias('receive')
      .description('receive datagrams and print one line each, until "bye"')
      .option('-p, --port <port>', 'UDP port to listen on (0: any free port)', '5000')
      .option('--bind <address>', 'listen on this address only')
      .option('--stop-word <word>', 'stop after a datagram that says this (case-insensitive)', 'bye')
      .option('--no-stop-word', 'never stop on a word')
      .option('--tcp', 'accept TCP connections instead: one message per line (with --key: length-prefixed sealed frames)')
      .option('--max-connections <n>', 'with --tcp: connections at once; more are closed and counted (default 512)')
      .option('--max-buffered <bytes>', 'with --tcp: bytes all unfinished lines may hold, e.g. 64M; past it the longest is cut (default 16M)')
      .option('--idle-timeout <seconds>', 'with --tcp: close a connection silent this long, 0: never (default 60)')
      .option('-n, --count <n>', 'stop after this many datagrams')
      .option('--timeout <seconds>', 'stop after this long without a datagram')
      .addOption(new Option('--json', 'one JSON object per datagram').conflicts('hex'))
      .option('--hex', 'a hex dump under each line')
      .option('--echo', 'send every datagram back to its sender')
      .option('--allow <cidrs>', 'show only datagrams from these sources, e.g. 192.168.1.0/24,fe80::/10 (repeatable)', collect)
      .option('--log <file>', 'append every datagram to FILE as a JSON line')
      .option('--rcvbuf <bytes>', 'receive buffer to ask the kernel for (default 8 MB)')
      .option('--join <groups>', 'join these multicast groups, e.g. 239.1.2.3,239.1.2.4 or ff02::1:3 (repeatable)', collect)
      .option('--iface <name|address>', 'with --join: the interface for the memberships')
      .option('--source <address>', 'with --join: only datagrams from this source (source-specific multicast)')
      .option('--reuse', 'let other listeners on this machine bind the same port (SO_REUSEADDR)')
      .option('--linger <seconds>', 'after stopping, keep acknowledging --ack senders this long (default 2)'),
  )).action(action(() => import('./commands/listen.js')));

  if (declares('send')) addKeyFlags(addFamilyFlags(
    program
      .command('send')
      .description('send a message (or stdin, one datagram per line) to HOST')
      .argument('<host>', 'name or address, optionally HOST:PORT or [IPv6]:PORT')
      .argument('[message...]', 'words joined by spaces; "-" or none: read stdin')
      .option('-p, --port <port>', 'destination UDP port', '5000')
      .option('--raw', 'all of stdin as one datagram, byte for byte')
      .option('--file <path>', 'a file as one datagram')
      .option('--hex <hex>', 'send these bytes, e.g. "de ad be ef"')
      .option('-c, --count <n>', 'send the message this many times', '1')
      .option('-i, --interval <ms>', 'wait this long between datagrams', '0')
      .option('-w, --wait-reply [seconds]', 'wait for one reply and print it (default 5 s)')
      .option('-s, --source <address>', 'send from this local address')
      .option('--broadcast', 'allow a broadcast destination (set automatically for known ones)')
      .option('-q, --quiet', 'no summary line on stderr')
      .option('--tcp', 'connect over TCP and send each message as a line; exit 1 if nobody listens')
      .option('--ack', 'reliable delivery: resend until acknowledged, in order, exactly once; exit 3 if not all are')
      .option('--window <n>', 'with --ack: messages in flight at most (default 64)')
      .option('--ttl <n>', 'to a multicast group: TTL, 0 to 255 (default 1, this link only)')
      .option('--iface <name|address>', 'to a multicast group: send out of this interface')
      .option('--loop', 'to a multicast group: also deliver to listeners on this machine (the default)')
      .option('--no-loop', 'to a multicast group: do not deliver to listeners on this machine')
      .option('--ack-timeout <seconds>', 'with --ack: give up after this long without a new acknowledgement (default 10)'),
  )).action(action(() => import('./commands/send.js')));

  if (declares('broadcast')) addKeyFlags(program
    .command('broadcast')
    .description('send a message to the broadcast address of every local IPv4 network')
    .argument('[message...]', 'words joined by spaces; "-" or none: read stdin')
    .option('-p, --port <port>', 'destination UDP port', '5000')
    .option('--iface <name>', 'only this interface')
    .option('--address', 'send to 255.255.255.255 instead of each directed broadcast address')
    .option('-q, --quiet', 'do not print where it sent'))
    .action(action(() => import('./commands/broadcast.js')));

  if (declares('bench')) addFamilyFlags(
    program
      .command('bench')
      .description('measure throughput, loss, jitter and round trips to a bench server (like iperf3 -u)')
      .argument('[host]', 'the bench server, optionally HOST:PORT or [IPv6]:PORT')
      .addOption(new Option('--server', 'serve bench clients until Ctrl-C').conflicts('loopback'))
      .option('--loopback', 'run a server in this process on 127.0.0.1 and test against it')
      .option('-p, --port <port>', 'server port (default 5201; with --server, 0: any free port)')
      .option('--bind <address>', 'with --server: listen on this address only')
      .option('--once', 'with --server: exit after one session')
      .option('-l, --length <bytes>', 'bytes per datagram, 28 (the bench header) or more (default 64)')
      .option('-t, --time <seconds>', 'how long to send (default 5)')
      .option('--rate <pps>', 'datagrams per second, 0: as fast as possible (default 10000)')
      .option('--rtt', 'then measure round trips with 1000 sequential echoes')
      .option('--json', 'one JSON object per report'),
  ).action(action(() => import('./commands/bench.js')));

  if (declares('relay')) addKeyFlags(program
    .command('relay')
    .description('forward datagrams to HOST:PORT and back, losing, duplicating, reordering and delaying some on purpose')
    .requiredOption('-p, --port <port>', 'UDP port clients send to (0: any free port)')
    .requiredOption('--to <host:port>', 'the upstream server, HOST:PORT or [IPv6]:PORT')
    .option('--bind <address>', 'listen on this address only')
    .option('--loss <rate>', 'drop this share of datagrams, 0 to 1 (or 0% to 100%)')
    .option('--dup <rate>', 'send an extra copy of this share')
    .option('--reorder <rate>', 'hold this share back until the next datagram of the client has overtaken it')
    .option('--delay <ms>', 'add this much latency')
    .option('--jitter <ms>', 'vary the latency by up to ± this much (never reordering by itself)')
    .option('--rate <pps>', 'let at most this many datagrams per second through each way; drop the rest')
    .option('--burst <n>', 'with --rate: datagrams let through back to back (default a tenth of a second\'s worth)')
    .option('--seed <n>', 'seed the random decisions, to repeat a run (default: random, printed at start)')
    .addOption(new Option('--up-only', 'impair only client-to-upstream datagrams').conflicts('downOnly'))
    .option('--down-only', 'impair only upstream-to-client datagrams')
    .option('--idle <seconds>', 'forget a client silent this long (default 60)')
    .option('--max-queue <bytes>', 'bytes of datagrams waiting to leave (delay, jitter, reorder), e.g. 64M; more are dropped and counted as queue full (default 32M)')
    .option('--json', 'print the counts on exit as one JSON object on stdout'))
    .action(action(() => import('./commands/relay.js')));

  if (declares('chat')) addKeyFlags(
    program
      .command('chat')
      .description('a LAN messenger that speaks IP Messenger (port 2425): who is here, messages, receipts')
      .option('-n, --name <name>', 'the name others see (default: your login name)')
      .option('-p, --port <port>', 'UDP port; IP Messenger uses 2425 (0: any free port)', '2425')
      .option('--json', 'commands from stdin, one JSON event per line on stdout (the default when stdin is not a terminal)')
      .option('--legacy-encoding <name>', 'read packets of clients that do not send UTF-8 in this encoding: gbk, cp932, big5, latin1...', 'gbk')
      .option('--peer <host[:port]>', 'also announce to this host, e.g. one on another network (repeatable)', collect)
      .option('--no-broadcast', 'announce only to --peer hosts, not to the local networks\' broadcast addresses'),
  ).action(action(() => import('./commands/chat.js')));

  if (declares('ui')) program
    .command('ui')
    .description('a local web page to listen, send and save messages (like Packet Sender)')
    .option('-p, --port <port>', 'HTTP port (0: any free port)', '8080')
    .option('--host <address>', 'address to serve on; anything but loopback is reachable by others', '127.0.0.1')
    .option('--open', 'open the page in the desktop browser')
    .action(action(() => import('./commands/ui.js')));

  if (declares('info')) program
    .command('info')
    .description("this machine's IP and MAC address, then every interface")
    .option('--json', 'one JSON document')
    .option('--all', 'include loopback and interfaces that are down')
    .action(action(() => import('./commands/info.js')));

  return program;
}

/** The one line a user sees for an error, and its exit code. */
export function describeFailure(err: unknown): { line: string; code: number } {
  if (isUsageError(err)) {
    return { line: cliMessage(err as Error), code: EXIT_USAGE };
  }
  if (isUdpkitError(err)) return { line: cliMessage(err), code: EXIT_FAILURE };
  const e = err as { message?: unknown; code?: unknown };
  const detail = typeof e?.message === 'string' ? e.message : String(err);
  return { line: `unexpected failure: ${detail}`, code: EXIT_FAILURE };
}

/**
 * Runs the CLI with `argv` (the arguments after `udpkit`). Resolves to the exit code; never exits
 * the process and never throws. A stdout that fails stops the command and costs exit 1.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const guard = guardOutput(io);
  return guard.finish(await runGuarded(argv, guard.io));
}

async function runGuarded(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number | undefined;
  const program = build(io, (c) => (code = c), chosenCommand(argv));
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return code ?? EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return EXIT_OK;
      }
      const sub = argv.find((a) => !a.startsWith('-'));
      io.stderr.write(`hint: see 'udpkit ${sub && program.commands.some((c) => c.name() === sub || c.aliases().includes(sub)) ? sub + ' ' : ''}--help'\n`);
      return EXIT_USAGE;
    }
    const { line, code: exit } = describeFailure(err);
    io.stderr.write(`udpkit: ${line}\n`);
    if (exit === EXIT_USAGE) io.stderr.write(`hint: see 'udpkit ${argv[0] ?? ''} --help'\n`.replace('  ', ' '));
    return exit;
  }
}
