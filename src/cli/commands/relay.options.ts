/** `udpkit relay`: its flags, examples and which flags go together. */
import { Option } from '@commander-js/extra-typings';
import { defineCommand, withKeyFlags, type OptsOf } from '../command-spec.js';

import { IMPAIRMENT_PROFILES } from '../../protocol/impairment-profiles.js';

interface Asked {
  loss?: string;
  dup?: string;
  reorder?: string;
  delay?: string;
  jitter?: string;
  rate?: string;
  corrupt?: string;
  gemodel?: string;
  mtu?: string;
  profile?: string;
  queueLimit?: string;
}

/** True when no impairment is asked for: then there is nothing for --up-only/--down-only to limit. */
const noImpairment = (o: Asked): boolean => [o.loss, o.dup, o.reorder, o.delay, o.jitter, o.rate, o.corrupt, o.gemodel, o.mtu, o.profile].every((v) => v === undefined);

const LIMITS_AN_IMPAIRMENT = 'limits an impairment: give --loss, --gemodel, --corrupt, --dup, --reorder, --delay, --jitter, --rate, --mtu or --profile too';

/** Whether a profile brings a bottleneck of its own, which --queue-limit may then resize. */
const profileHasRate = (name: string | undefined): boolean => name !== undefined && name in IMPAIRMENT_PROFILES && 'bitRate' in IMPAIRMENT_PROFILES[name as keyof typeof IMPAIRMENT_PROFILES];

/** A rate given in bits (`10mbit`) is a bottleneck; a plain number of datagrams per second may be a policer. */
export const isBitRate = (rate: string | undefined): boolean => rate !== undefined && /bit\s*$/i.test(rate);

/** `udpkit relay` as main.ts declares it and completion lists it. */
export const relaySpec = defineCommand({
  name: 'relay',
  description: 'forward datagrams to HOST:PORT and back, losing, duplicating, reordering and delaying some on purpose',
  examples: [
    'udpkit relay -p 6000 --to 127.0.0.1:5000 --loss 10%',
    'udpkit relay -p 6000 --to 127.0.0.1:5000 --loss 10% --loss-burst 4 --trace fates.jsonl --seed 3',
    'udpkit relay -p 6000 --to [::1]:5000 --rate 10mbit --queue-limit 64k --mtu 1400',
    'udpkit relay -p 6000 --to 10.0.0.7:5000 --profile 3g --up-only --pcap relayed.pcapng',
  ],
  flags: (cmd) =>
    withKeyFlags(
      cmd
        .requiredOption('-p, --port <port>', 'UDP port clients send to (0: any free port); required')
        .requiredOption('--to <host:port>', 'the upstream server, HOST:PORT or [IPv6]:PORT; required')
        .option('--bind <address>', 'listen on this address only')
        .addOption(new Option('--profile <name>', 'start from a preset path (flags given override its numbers; see the README)').choices(Object.keys(IMPAIRMENT_PROFILES)))
        .option('--loss <rate>', 'drop this share of datagrams, 0 to 1 (or 0% to 100%), independently')
        .addOption(new Option('--loss-burst <n>', 'with --loss: lose in bursts of this mean length, keeping --loss as the average (Gilbert model)').conflicts('lossCorr'))
        .option('--loss-corr <rate>', "with --loss: netem's correlated loss (deprecated by netem: the real loss falls below --loss)")
        .addOption(new Option('--gemodel <p,r,1-h,1-k>', "netem's Gilbert-Elliott loss: p good to bad, r bad to good, 1-h loss when bad, 1-k when good").conflicts(['loss', 'lossBurst', 'lossCorr']))
        .option('--corrupt <rate>', 'flip one random bit of the payload of this share')
        .option('--dup <rate>', 'send an extra copy of this share')
        .option('--reorder <rate>', 'with --delay: this share skips the delay (netem); without: held back until the next one overtakes it')
        .option('--reorder-gap <n>', 'with --delay and --reorder: after each reordered datagram, the next N-1 keep their order (netem gap)')
        .option('--delay <ms>', 'add this much latency')
        .option('--jitter <ms>', 'vary the latency by up to ± this much (never reordering by itself)')
        .option('--rate <rate>', 'datagrams per second (1000) or bits per second (10mbit, 500kbit), each way; see --queue-limit')
        .option('--queue-limit <n|bytes>', 'with --rate: queue up to N datagrams (100) or bytes (64k) at the rate, drop at the tail beyond (a bit rate: default 1000 datagrams)')
        .option('--burst <n>', "with --rate in datagrams and no --queue-limit (a policer): datagrams let through back to back (default a tenth of a second's worth)")
        .option('--mtu <bytes>', 'drop datagrams whose IP packet (payload + 28, or 48 for IPv6) is larger')
        .option('--trace <file>', 'write one JSON line per datagram: time, direction, size, fate, delay')
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
    { flag: 'burst', inapplicable: (o) => o.queueLimit !== undefined || isBitRate(o.rate), why: 'is for the policer (--rate in datagrams without --queue-limit); a queue smooths bursts itself' },
    { flag: 'queueLimit', inapplicable: (o) => o.rate === undefined && !profileHasRate(o.profile), why: 'goes with --rate (the queue of the bottleneck)' },
    { flag: 'lossBurst', inapplicable: (o) => o.loss === undefined && o.profile === undefined, why: 'goes with --loss (the average loss the bursts keep)' },
    { flag: 'lossCorr', inapplicable: (o) => o.loss === undefined && o.profile === undefined, why: 'goes with --loss' },
    { flag: 'reorderGap', inapplicable: (o) => o.reorder === undefined, why: 'goes with --reorder' },
    { flag: 'reorderGap', inapplicable: (o) => o.delay === undefined && o.profile === undefined, why: 'goes with --delay: netem reorders by letting a datagram skip the delay' },
    { flag: 'upOnly', inapplicable: noImpairment, why: LIMITS_AN_IMPAIRMENT },
    { flag: 'downOnly', inapplicable: noImpairment, why: LIMITS_AN_IMPAIRMENT },
  ],
});

/** What `udpkit relay` parses. */
export type RelayCliOptions = OptsOf<ReturnType<typeof relaySpec.flags>>;
