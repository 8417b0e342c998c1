/** `udpkit completion bash|zsh`: prints a completion script written from every command's declaration. */
import { declareCommand, type AnyCommand, type CommandSpec } from '../command-spec.js';
import { SPECS } from '../command-list.js';
import { bashScript, describeCommands, zshScript } from '../completion-script.js';
import { EXIT_OK, type CliIo } from '../io.js';
import type { CompletionOptions } from './completion.options.js';

/** Runs `udpkit completion SHELL`; commander has already checked that SHELL is bash or zsh. */
export async function run(args: readonly string[], _opts: CompletionOptions, io: CliIo): Promise<number> {
  const commands = describeCommands(Object.values(SPECS).map((spec) => declareCommand(spec as CommandSpec<AnyCommand>)));
  const script = args[0] === 'zsh' ? zshScript(commands) : bashScript(commands);
  await new Promise<void>((resolve) => io.stdout.write(script, () => resolve()));
  return EXIT_OK;
}
