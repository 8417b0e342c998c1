/** `udpkit completion`: prints a shell completion script. */
import { Argument } from '@commander-js/extra-typings';
import { defineCommand, type OptsOf } from '../command-spec.js';

/** The shells `udpkit completion` writes a script for. */
export const SHELLS = ['bash', 'zsh'] as const;

/** `udpkit completion` as main.ts declares it and completion lists it. */
export const completionSpec = defineCommand({
  name: 'completion',
  description: 'print a completion script for bash or zsh',
  examples: ['source <(udpkit completion bash)', 'udpkit completion bash > ~/.local/share/bash-completion/completions/udpkit', 'udpkit completion zsh > "${fpath[1]}/_udpkit"'],
  flags: (cmd) => cmd.addArgument(new Argument('<shell>', 'the shell').choices(SHELLS)),
});

/** What `udpkit completion` parses (no flags). */
export type CompletionOptions = OptsOf<ReturnType<typeof completionSpec.flags>>;
