/**
 * How a command declares itself: name, aliases, description, examples, flags (a typed commander
 * command) and the rules that make a flag which does not apply a usage error. The declarations
 * live in small `commands/NAME.options.ts` files, apart from the code that runs the command, so
 * that main.ts can declare a command (and --help, completion can list them all) without loading
 * what it runs. The command's `run` takes the options type its declaration infers.
 */
import { Command, Option, type OptionValues } from '@commander-js/extra-typings';
import type { CliIo } from './io.js';
import { UsageError } from '../errors.js';

/** Any typed command, whatever its arguments and options. */
export type AnyCommand = Command<any[], any, any>;

/** The options object a declared command's parse hands to its `run`. */
export type OptsOf<C> = C extends Command<infer _A, infer O, infer _G> ? O : never;

/**
 * A flag that does not go with the rest of the command line. Checked only when the user gave
 * the flag; `inapplicable` sees every parsed option, defaults included.
 */
export interface FlagRule<O> {
  /** The option's attribute name, as in the options object (`window`, `ackTimeout`). */
  readonly flag: keyof O & string;
  /** True when, given, the flag would be ignored or would contradict another. */
  readonly inapplicable: (opts: O) => boolean;
  /** Why, completing the flag's name: `--window` + ` applies only with --ack`. */
  readonly why: string;
}

/** One command's declaration. */
export interface CommandSpec<C extends AnyCommand> {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly description: string;
  /** Two to four command lines, shown at the end of `--help`. */
  readonly examples: readonly string[];
  /** Adds the arguments and flags to the bare command. */
  readonly flags: (cmd: Command) => C;
  readonly rules?: readonly FlagRule<OptsOf<C>>[];
}

/** What a command module exports: runs it with its parsed arguments and typed options. */
export type CommandRun<O> = (args: readonly string[], opts: O, io: CliIo) => Promise<number>;

/** Identity, for inference: the spec's rules are typed from what its `flags` returns. */
export function defineCommand<C extends AnyCommand>(spec: CommandSpec<C>): CommandSpec<C> {
  return spec;
}

/** The commander command a spec describes, with its examples as the last part of its help. */
export function declareCommand<C extends AnyCommand>(spec: CommandSpec<C>): C {
  const cmd = new Command(spec.name).description(spec.description);
  for (const alias of spec.aliases ?? []) cmd.alias(alias);
  const examples = spec.examples.map((e) => `  ${e}`).join('\n');
  return spec.flags(cmd).addHelpText('after', `\nExamples:\n${examples}`) as C;
}

/** Commander's way to let a flag repeat: each use adds to the list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--key` and `--key-file`, for the commands that seal datagrams. */
export function withKeyFlags<A extends unknown[], O extends OptionValues>(cmd: Command<A, O>) {
  return cmd
    .option('--key <secret>', 'seal datagrams with this shared secret (or set UDPKIT_KEY)')
    .option('--key-file <path>', 'read the shared secret from a file');
}

/** `-4` and `-6`, which exclude each other. */
export function withFamilyFlags<A extends unknown[], O extends OptionValues>(cmd: Command<A, O>) {
  return cmd.addOption(new Option('-4, --ipv4', 'IPv4 only').conflicts('ipv6')).addOption(new Option('-6, --ipv6', 'IPv6 only'));
}

/** How the user writes the option named `attribute`: `-6/--ipv6`, `--window`, `--no-loop`. */
export function flagLabel(cmd: AnyCommand, attribute: string): string {
  const value = (cmd.opts() as OptionValues)[attribute];
  const candidates = cmd.options.filter((o) => o.attributeName() === attribute);
  const option = candidates.find((o) => o.negate === (value === false)) ?? candidates[0];
  if (option === undefined) return `--${attribute}`;
  return option.short !== undefined && option.long !== undefined ? `${option.short}/${option.long}` : (option.long ?? option.short ?? attribute);
}

/**
 * Throws a usage error for the first flag the user gave that does not apply, naming it and why.
 * Runs before the command's module is loaded: a wrong command line costs no start-up.
 */
export function enforceRules<C extends AnyCommand>(cmd: C, rules: readonly FlagRule<OptsOf<C>>[]): void {
  const opts = cmd.opts() as OptsOf<C>;
  for (const rule of rules) {
    if (cmd.getOptionValueSource(rule.flag) !== 'cli') continue;
    if (rule.inapplicable(opts)) throw new UsageError(`${flagLabel(cmd, rule.flag)} ${rule.why}`);
  }
}
