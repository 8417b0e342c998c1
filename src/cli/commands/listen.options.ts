/** `udpkit listen` (alias `receive`): its flags, examples and which flags go together. */
import { Option } from '@commander-js/extra-typings';
import { collect, defineCommand, withFamilyFlags, withKeyFlags, type OptsOf } from '../command-spec.js';

/** The flags that only a UDP listener reads. */
const overTcp = (o: { tcp?: true }): boolean => o.tcp === true;

/** `udpkit listen` as main.ts declares it and completion lists it. */
export const listenSpec = defineCommand({
  name: 'listen',
  aliases: ['receive'],
  description: 'receive datagrams and print one line each, until "bye"',
  examples: [
    'udpkit listen -p 9000 --json',
    'udpkit listen -p 9000 --allow 192.168.1.0/24 --log in.jsonl --pcap in.pcapng',
    'udpkit listen -p 5000 --join 239.1.2.3 --iface eth0',
    'udpkit listen -p 9000 --pcap - | tcpdump -nn -r -',
  ],
  flags: (cmd) =>
    withKeyFlags(
      withFamilyFlags(
        cmd
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
          .option('--hex', 'a hex dump under each line (UDP only)')
          .option('--echo', 'send every datagram back to its sender (UDP only)')
          .option('--allow <cidrs>', 'show only datagrams from these sources, e.g. 192.168.1.0/24,fe80::/10 (repeatable)', collect)
          .option('--log <file>', 'append every datagram to FILE as a JSON line')
          .option(
            '--pcap <file>',
            'also write every datagram shown to FILE as a capture for Wireshark/tcpdump, to the bound address (0.0.0.0 or :: for a wildcard bind) ("-": stdout, text lines then go to stderr; with --key: the opened plaintext; UDP only)',
          )
          .addOption(new Option('--pcap-format <format>', 'with --pcap: the file format (default pcapng)').choices(['pcapng', 'pcap'] as const))
          .option('--rcvbuf <bytes>', 'receive buffer to ask the kernel for (default 8 MB; UDP only)')
          .option('--join <groups>', 'join these multicast groups, e.g. 239.1.2.3,239.1.2.4 or ff02::1:3 (repeatable; UDP only)', collect)
          .option('--iface <name|address>', 'with --join: the interface for the memberships')
          .option('--source <address>', 'with --join: only datagrams from this source (source-specific multicast)')
          .option('--reuse', 'let other listeners on this machine bind the same port (SO_REUSEADDR; UDP only)')
          .option('--linger <seconds>', 'after stopping, keep acknowledging --ack senders this long (default 2; UDP only)'),
      ),
    ),
  rules: [
    { flag: 'maxConnections', inapplicable: (o) => o.tcp !== true, why: 'goes with --tcp' },
    { flag: 'maxBuffered', inapplicable: (o) => o.tcp !== true, why: 'goes with --tcp' },
    { flag: 'idleTimeout', inapplicable: (o) => o.tcp !== true, why: 'goes with --tcp' },
    { flag: 'hex', inapplicable: overTcp, why: 'does not apply to --tcp' },
    { flag: 'echo', inapplicable: overTcp, why: 'does not apply to --tcp (a TCP listener sends nothing back)' },
    { flag: 'rcvbuf', inapplicable: overTcp, why: 'does not apply to --tcp (it sizes the UDP receive buffer)' },
    { flag: 'join', inapplicable: overTcp, why: 'does not apply to --tcp (multicast is UDP only)' },
    { flag: 'reuse', inapplicable: overTcp, why: 'does not apply to --tcp' },
    { flag: 'linger', inapplicable: overTcp, why: 'does not apply to --tcp (it answers UDP --ack senders)' },
    { flag: 'ipv4', inapplicable: overTcp, why: 'does not apply to --tcp (it listens on both families; use --bind ADDRESS for one)' },
    { flag: 'ipv6', inapplicable: overTcp, why: 'does not apply to --tcp (it listens on both families; use --bind ADDRESS for one)' },
    { flag: 'pcap', inapplicable: overTcp, why: 'does not apply to --tcp (captures are of UDP datagrams)' },
    { flag: 'pcapFormat', inapplicable: (o) => o.pcap === undefined, why: 'goes with --pcap FILE' },
    { flag: 'iface', inapplicable: (o) => o.join === undefined, why: 'applies to multicast: give --join GROUP too' },
    { flag: 'source', inapplicable: (o) => o.join === undefined, why: 'applies to multicast: give --join GROUP too' },
  ],
});

/** What `udpkit listen` parses. */
export type ListenOptions = OptsOf<ReturnType<typeof listenSpec.flags>>;
