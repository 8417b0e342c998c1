/** `udpkit ui`: its flags and examples. */
import { defineCommand, type OptsOf } from '../command-spec.js';

/** `udpkit ui` as main.ts declares it and completion lists it. */
export const uiSpec = defineCommand({
  name: 'ui',
  description: 'a local web page to listen, send and save messages (like Packet Sender)',
  examples: ['udpkit ui --open', 'udpkit ui -p 0'],
  flags: (cmd) =>
    cmd
      .option('-p, --port <port>', 'HTTP port (0: any free port)', '8080')
      .option('--host <address>', 'address to serve on; anything but loopback is reachable by others', '127.0.0.1')
      .option('--open', 'open the page in the desktop browser'),
});

/** What `udpkit ui` parses. */
export type UiOptions = OptsOf<ReturnType<typeof uiSpec.flags>>;
