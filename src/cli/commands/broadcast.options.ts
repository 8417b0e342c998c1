/** `udpkit broadcast`: its flags and examples (every flag applies to every use). */
import { defineCommand, withKeyFlags, type OptsOf } from '../command-spec.js';

/** `udpkit broadcast` as main.ts declares it and completion lists it. */
export const broadcastSpec = defineCommand({
  name: 'broadcast',
  description: 'send a message to the broadcast address of every local IPv4 network',
  examples: ['udpkit broadcast -p 9000 hello everyone', 'udpkit broadcast --iface eth0 -p 9000 hi', 'udpkit broadcast --address -q -p 9000 < lines.txt'],
  flags: (cmd) =>
    withKeyFlags(
      cmd
        .argument('[message...]', 'words joined by spaces; "-" or none: read stdin')
        .option('-p, --port <port>', 'destination UDP port', '5000')
        .option('--iface <name>', 'only this interface')
        .option('--address', 'send to 255.255.255.255 instead of each directed broadcast address')
        .option('-q, --quiet', 'do not print where it sent'),
    ),
});

/** What `udpkit broadcast` parses. */
export type BroadcastOptions = OptsOf<ReturnType<typeof broadcastSpec.flags>>;
