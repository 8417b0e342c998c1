/** `udpkit relay`: its flags, examples and which flags go together. */
import { Option } from '@commander-js/extra-typings';
import { defineCommand, withKeyFlags, type OptsOf } from '../command-spec.js';

/** True when no impairment is asked for: then there is nothing for --up-only/--down-only to limit. */
const noImpairment = (o: { loss?: string; dup?: string; reorder?: string; delay?: string; jitter?: string; rate?: string }): boolean =>
  [o.loss, o.dup, o.reorder, o.delay, o.jitter, o.rate].every((v) => v === undefined);

/** `udpkit relay` as main.ts declares it and completion lists it. */
export const relaySpec = defineCommand({
  name: 'relay',
  description: 'forward datagrams to HOST:PORT and back, losing, duplicating, reordering and delaying some on purpose',
  examples: [
    'udpkit relay -p 6000 --to 127.0.0.1:5000 --loss 10%',
    'udpkit relay -p 6000 --to 10.0.0.7:5000 --delay 50 --jitter 20 --seed 7',
    'udpkit relay -p 6000 --to [::1]:5000 --rate 1000 --burst 50 --up-only --json',
    'udpkit relay -p 6000 --to 127.0.0.1:5000 --loss 5% --pcap relayed.pcapng',
  ],
  flags: (cmd) =>
    withKeyFlags(
      cmd
        .requiredOption('-p, --port <port>', 'UDP port clients send to (0: any free port); required')
        .requiredOption('--to <host:port>', 'the upstream server, HOST:PORT or [IPv6]:PORT; required')
        .option('--bind <address>', 'listen on this address only')
        .option('--loss <rate>', 'drop this share of datagrams, 0 to 1 (or 0% to 100%)')
        .option('--dup <rate>', 'send an extra copy of this share')
        .option('--reorder <rate>', 'hold this share back until the next datagram of the client has overtaken it')
        .option('--delay <ms>', 'add this much latency')
        .option('--jitter <ms>', 'vary the latency by up to ± this much (never reordering by itself)')
        .option('--rate <pps>', 'let at most this many datagrams per second through each way; drop the rest')
        .option('--burst <n>', "with --rate: datagrams let through back to back (default a tenth of a second's worth)")
        .option('--seed <n>', 'seed the random decisions, to repeat a run (default: random, printed at start)')
        .addOption(new Option('--up-only', 'impair only client-to-upstream datagrams').conflicts('downOnly'))
        .option('--down-only', 'impair only upstream-to-client datagrams')
        .option('--idle <seconds>', 'forget a client silent this long (default 60)')
        .option('--max-queue <bytes>', 'bytes of datagrams waiting to leave (delay, jitter, reorder), e.g. 64M; more are dropped and counted as queue full (default 32M)')
        .option('--json', 'print the counts on exit as one JSON object on stdout')
        .option('--pcap <file>', 'write every datagram forwarded, both ways, after the impairments, to FILE as a capture for Wireshark/tcpdump')
        .addOption(new Option('--pcap-format <format>', 'with --pcap: the file format (default pcapng)').choices(['pcapng', 'pcap'] as const)),
    ),
  rules: [
    { flag: 'pcapFormat', inapplicable: (o) => o.pcap === undefined, why: 'goes with --pcap FILE' },
    { flag: 'burst', inapplicable: (o) => o.rate === undefined, why: 'goes with --rate' },
    { flag: 'upOnly', inapplicable: noImpairment, why: 'limits an impairment: give --loss, --dup, --reorder, --delay, --jitter or --rate too' },
    { flag: 'downOnly', inapplicable: noImpairment, why: 'limits an impairment: give --loss, --dup, --reorder, --delay, --jitter or --rate too' },
  ],
});

/** What `udpkit relay` parses. */
export type RelayCliOptions = OptsOf<ReturnType<typeof relaySpec.flags>>;
