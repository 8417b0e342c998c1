/**
 * Every command's declaration, in the order `udpkit --help` lists them. main.ts declares them
 * (only the one that runs, when the command line names it); completion reads them all.
 */
import { benchSpec } from './commands/bench.options.js';
import { broadcastSpec } from './commands/broadcast.options.js';
import { chatSpec } from './commands/chat.options.js';
import { completionSpec } from './commands/completion.options.js';
import { infoSpec } from './commands/info.options.js';
import { listenSpec } from './commands/listen.options.js';
import { relaySpec } from './commands/relay.options.js';
import { sendSpec } from './commands/send.options.js';
import { uiSpec } from './commands/ui.options.js';

/** By name, in the order `udpkit --help` lists them. */
export const SPECS = {
  listen: listenSpec,
  send: sendSpec,
  broadcast: broadcastSpec,
  bench: benchSpec,
  relay: relaySpec,
  chat: chatSpec,
  ui: uiSpec,
  info: infoSpec,
  completion: completionSpec,
} as const;

/** A command's name as main.ts and completion know it. */
export type CommandName = keyof typeof SPECS;
