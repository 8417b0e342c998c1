/** `udpkit chat`: its flags and examples. */
import { defineCommand, collect, withKeyFlags, type OptsOf } from '../command-spec.js';

/** With a key the chat transfers no files. */
const keyed = (o: { key?: string; keyFile?: string }): boolean => o.key !== undefined || o.keyFile !== undefined;

/** `udpkit chat` as main.ts declares it and completion lists it. */
export const chatSpec = defineCommand({
  name: 'chat',
  description: 'a LAN messenger that speaks IP Messenger (port 2425): who is here, messages, receipts',
  examples: ['udpkit chat -n alice --group sales', 'udpkit chat -n bob --peer 10.1.2.3 --legacy-encoding cp932', 'echo "hello all" | udpkit chat --json -n bot', 'udpkit chat -n alice --download-dir ~/Downloads   # then: /send bob report.pdf, /get 1'],
  flags: (cmd) =>
    withKeyFlags(
      cmd
        .option('-n, --name <name>', 'the name others see (default: your login name)')
        .option('-g, --group <name>', 'the group others see you in (shown by /who)')
        .option('-p, --port <port>', 'UDP port; IP Messenger uses 2425 (0: any free port)', '2425')
        .option('--json', 'commands from stdin, one JSON event per line on stdout (the default when stdin is not a terminal)')
        .option('--legacy-encoding <name>', 'read text that is not UTF-8, from clients that name no encoding, in this one: gbk, cp932, big5, latin1...', 'gbk')
        .option('--peer <host[:port]>', 'also announce to this host, e.g. one on another network (repeatable)', collect)
        .option('--no-broadcast', "announce only to --peer hosts, not to the local networks' broadcast addresses")
        .option('--download-dir <dir>', 'where /get saves files and folders without a DIR (default: the current folder)')
        .option('--overwrite', 'let /get replace files that exist (default: save as "name (1).ext")')
        .option('--max-transfers <n>', 'file transfers at once, each way (default 8)'),
    ),
  rules: [
    { flag: 'downloadDir', inapplicable: keyed, why: 'does not apply with --key (no file transfer: TCP is not sealed)' },
    { flag: 'overwrite', inapplicable: keyed, why: 'does not apply with --key (no file transfer: TCP is not sealed)' },
    { flag: 'maxTransfers', inapplicable: keyed, why: 'does not apply with --key (no file transfer: TCP is not sealed)' },
  ],
});

/** What `udpkit chat` parses. */
export type ChatOptions = OptsOf<ReturnType<typeof chatSpec.flags>>;
