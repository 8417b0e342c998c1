/**
 * The CLI entry: declares every command and its flags, loads the command's module only when it
 * runs (start-up stays close to `node -e 0`), and turns errors into one line and an exit code.
 * Runs in-process with an argument array: `await run(['send', '127.0.0.1', 'hi'], io)`.
 */
import { Command, CommanderError } from '@commander-js/extra-typings';
import { isUdpkitError, isUsageError } from '../errors.js';
import { declareCommand, enforceRules, type AnyCommand, type CommandRun, type CommandSpec, type OptsOf } from './command-spec.js';
import { SPECS, type CommandName } from './command-list.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { cliMessage } from './option-flags.js';
import { guardOutput } from './output-guard.js';
import { versionText } from './version.js';

/** Each command's module, loaded only when it runs; typed so its `run` takes what its declaration parses. */
type Loaders = { readonly [K in CommandName]: () => Promise<{ run: CommandRun<OptsOf<ReturnType<(typeof SPECS)[K]['flags']>>> }> };

// Literal import() paths: scripts/bundle.mjs finds them here and bundles each command apart.
const LOADERS: Loaders = {
  listen: () => import('./commands/listen.js'),
  send: () => import('./commands/send.js'),
  broadcast: () => import('./commands/broadcast.js'),
  bench: () => import('./commands/bench.js'),
  relay: () => import('./commands/relay.js'),
  chat: () => import('./commands/chat.js'),
  ui: () => import('./commands/ui.js'),
  info: () => import('./commands/info.js'),
  completion: () => import('./commands/completion.js'),
};

/** What `udpkit --help` says first: every command by name. */
export const PROGRAM_DESCRIPTION =
  'UDP messaging: listen (alias receive) for datagrams, send them (--ack: reliably), broadcast to every local network, ' +
  'bench throughput and loss, relay with loss and delay on purpose, chat over IP Messenger, a local web ui, ' +
  "info on this machine's addresses, and shell completion";

/**
 * The command `argv` runs when its first word names one: then only that command is declared,
 * since declaring the others (a hundred options) is a millisecond of every start-up and
 * nothing of them is shown. Otherwise (help, a typo to suggest a fix for) every command is.
 */
function chosenCommand(argv: readonly string[]): CommandName | undefined {
  const word = argv[0] ?? '';
  return (Object.keys(SPECS) as CommandName[]).find((name) => name === word || (SPECS[name].aliases ?? []).includes(word));
}

/** Declares one command: its flags, then on parse its rules, then its module's `run`. */
function wire<C extends AnyCommand>(
  spec: CommandSpec<C>,
  load: () => Promise<{ run: CommandRun<OptsOf<C>> }>,
  io: CliIo,
  done: (code: number) => void,
): AnyCommand {
  const cmd = declareCommand(spec);
  return cmd.action(async () => {
    enforceRules(cmd, spec.rules ?? []);
    const mod = await load();
    done(await mod.run(cmd.args, cmd.opts() as OptsOf<C>, io));
  });
}

function build(io: CliIo, done: (code: number) => void, only?: CommandName): Command {
  const program = new Command('udpkit')
    .description(PROGRAM_DESCRIPTION)
    .option('-V, --version', 'print the version, and whether the native addon is in use (and why not)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Commander puts its suggestion on a line of its own: keep the error one line.
      outputError: (s, write) => write(`udpkit: ${s.trim().replace(/^error: /, '').replace(/\s*\n\s*\(Did you mean/, ' (did you mean')}\n`),
    });
  // Not commander's .version(): the text says which path runs, worked out only when asked.
  program.on('option:version', () => {
    const text = versionText();
    io.stdout.write(text);
    throw new CommanderError(0, 'commander.version', text);
  });
  for (const name of Object.keys(SPECS) as CommandName[]) {
    if (only !== undefined && only !== name) continue;
    // The Loaders type has checked each module's run against its own declaration; here they are alike.
    const cmd = wire(SPECS[name] as CommandSpec<AnyCommand>, LOADERS[name] as () => Promise<{ run: CommandRun<unknown> }>, io, done);
    // addCommand, unlike command(), does not hand down exitOverride, output and suggestions.
    program.addCommand((cmd as unknown as Command).copyInheritedSettings(program));
  }
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
