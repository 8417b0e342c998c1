/** `udpkit bench`: its flags, examples and which flags belong to which of its three modes. */
import { Option } from '@commander-js/extra-typings';
import { defineCommand, withFamilyFlags, type OptsOf } from '../command-spec.js';

const server = (o: { server?: true }): boolean => o.server === true;
const notServer = (o: { server?: true }): boolean => o.server !== true;
const loopback = (o: { loopback?: true }): boolean => o.loopback === true;

/** `udpkit bench` as main.ts declares it and completion lists it. */
export const benchSpec = defineCommand({
  name: 'bench',
  description: 'measure throughput, loss, jitter and round trips to a bench server (like iperf3 -u)',
  examples: [
    'udpkit bench --server -p 5201',
    'udpkit bench 10.0.0.7 -t 10 --rate 20k -l 1200 -i 1 --rtt',
    'udpkit bench 10.0.0.7 --bitrate 100M -l 1200 -P 4 --bidir',
    'udpkit bench --loopback --reverse --json',
  ],
  flags: (cmd) =>
    withFamilyFlags(
      cmd
        .argument('[host]', 'the bench server, optionally HOST:PORT or [IPv6]:PORT')
        .addOption(new Option('--server', 'serve bench clients until Ctrl-C').conflicts('loopback'))
        .option('--loopback', 'run a server in this process on 127.0.0.1 and test against it')
        .option('-p, --port <port>', 'server port (default 5201; with --server, 0: any free port)')
        .option('--bind <address>', 'with --server: listen on this address only')
        .option('--once', 'with --server: exit after one session')
        .option('-l, --length <bytes>', 'bytes per datagram, 28 (the bench header) or more (default 64)')
        .option('-t, --time <seconds>', 'how long to send (default 5)')
        .addOption(new Option('--rate <pps>', 'datagrams per second per stream, k/M/G for 1e3/1e6/1e9 (20k); 0: as fast as possible (default 10000)').conflicts('bitrate'))
        .option('--bitrate <bits>', 'UDP payload bits per second per stream, k/M/G (100M); sets --rate from -l')
        .option('--burst <n>', 'datagrams sent back to back, every n/rate (default 1: every gap the same)')
        .addOption(new Option('-R, --reverse', 'the server sends and this client counts (needs a server that knows it)').conflicts('bidir'))
        .option('--bidir', 'both send at once: the client\'s traffic and the server\'s, each counted by the other end')
        .option('-P, --parallel <n>', 'streams at once, each its own socket and session, 1 to 128 (default 1)')
        .option('-i, --interval <seconds>', 'a line (or JSON object) per interval of this many seconds')
        .option('--rtt', 'then measure round trips with 1000 sequential echoes')
        .addOption(new Option('--json', 'one JSON object per report').conflicts('jsonStream'))
        .option('--json-stream', 'one JSON object per interval, then the report, one per line')
        .option('--plot <file>', 'then draw throughput, loss and delay variation over time (and the --rtt histogram) to FILE.svg or FILE.html (intervals of -i, or 1 s)'),
    ),
  rules: [
    { flag: 'once', inapplicable: notServer, why: 'is for --server' },
    { flag: 'bind', inapplicable: notServer, why: 'is for --server' },
    { flag: 'length', inapplicable: server, why: 'is for a client' },
    { flag: 'time', inapplicable: server, why: 'is for a client' },
    { flag: 'rate', inapplicable: server, why: 'is for a client' },
    { flag: 'rtt', inapplicable: server, why: 'is for a client' },
    { flag: 'bitrate', inapplicable: server, why: 'is for a client' },
    { flag: 'burst', inapplicable: server, why: 'is for a client' },
    { flag: 'parallel', inapplicable: server, why: 'is for a client' },
    { flag: 'interval', inapplicable: server, why: 'is for a client' },
    { flag: 'plot', inapplicable: server, why: 'is for a client (it draws the client\'s report)' },
    // Text interval lines would come before the JSON report on stdout, which then does not parse.
    { flag: 'interval', inapplicable: (o: { json?: true }) => o.json === true, why: 'prints text lines; with JSON, use --json-stream (an object per interval, then the report)' },
    { flag: 'jsonStream', inapplicable: server, why: 'is for a client (the server prints one JSON object per session with --json)' },
    { flag: 'reverse', inapplicable: server, why: 'is for a client (it asks the server to send)' },
    { flag: 'bidir', inapplicable: server, why: 'is for a client (it asks the server to send too)' },
    { flag: 'port', inapplicable: loopback, why: 'does not apply to --loopback, which picks a free port itself' },
    { flag: 'ipv4', inapplicable: loopback, why: 'does not apply to --loopback (it runs over 127.0.0.1)' },
    { flag: 'ipv6', inapplicable: loopback, why: 'does not apply to --loopback (it runs over 127.0.0.1)' },
  ],
});

/** What `udpkit bench` parses. */
export type BenchOptions = OptsOf<ReturnType<typeof benchSpec.flags>>;
