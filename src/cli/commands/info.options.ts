/** `udpkit info`: its flags and examples. */
import { defineCommand, type OptsOf } from '../command-spec.js';

/** `udpkit info` as main.ts declares it and completion lists it. */
export const infoSpec = defineCommand({
  name: 'info',
  description: "this machine's IP and MAC address, then every interface",
  examples: ['udpkit info', 'udpkit info --all', 'udpkit info --json'],
  flags: (cmd) => cmd.option('--json', 'one JSON document').option('--all', 'include loopback and interfaces that are down'),
});

/** What `udpkit info` parses. */
export type InfoOptions = OptsOf<ReturnType<typeof infoSpec.flags>>;
