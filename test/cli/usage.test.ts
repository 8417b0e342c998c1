/**
 * Usage errors and option parsing, in-process through main.ts's run(argv, io): every flag that
 * does not apply (each rule of each command's declaration), bad values, misspelled flags and
 * commands, and the help text. No child process: the spawned binary is for end-to-end tests.
 */
import { describe, expect, it } from 'vitest';
import { SPECS } from '../../src/cli/command-list.js';
import { PROGRAM_DESCRIPTION } from '../../src/cli/main.js';
import { runInProcess } from '../helpers/in-process-cli.js';

/** Each flag that does not apply, the command line that gives it, and the one line expected. */
const INAPPLICABLE: readonly (readonly [readonly string[], string])[] = [
  [['listen', '-p', '0', '--max-connections', '5'], '--max-connections goes with --tcp'],
  [['chat', '--key', 'k', '--overwrite'], '--overwrite does not apply with --key (no file transfer: TCP is not sealed)'],
  [['chat', '--key', 'k', '--download-dir', '/tmp'], '--download-dir does not apply with --key (no file transfer: TCP is not sealed)'],
  [['chat', '--key-file', '/dev/null', '--max-transfers', '2'], '--max-transfers does not apply with --key (no file transfer: TCP is not sealed)'],
  [['listen', '-p', '0', '--max-buffered', '1M'], '--max-buffered goes with --tcp'],
  [['listen', '-p', '0', '--idle-timeout', '5'], '--idle-timeout goes with --tcp'],
  [['listen', '--tcp', '-p', '0', '--hex'], '--hex does not apply to --tcp'],
  [['listen', '--tcp', '-p', '0', '--echo'], '--echo does not apply to --tcp (a TCP listener sends nothing back)'],
  [['listen', '--tcp', '-6', '--rcvbuf', '1'], '--rcvbuf does not apply to --tcp (it sizes the UDP receive buffer)'],
  [['listen', '--tcp', '--join', '239.1.1.1'], '--join does not apply to --tcp (multicast is UDP only)'],
  [['listen', '--tcp', '-p', '0', '--reuse'], '--reuse does not apply to --tcp'],
  [['listen', '--tcp', '-p', '0', '--linger', '1'], '--linger does not apply to --tcp (it answers UDP --ack senders)'],
  [['listen', '--tcp', '-p', '0', '-4'], '-4/--ipv4 does not apply to --tcp (it listens on both families; use --bind ADDRESS for one)'],
  [['listen', '--tcp', '-p', '0', '-6'], '-6/--ipv6 does not apply to --tcp (it listens on both families; use --bind ADDRESS for one)'],
  [['listen', '--tcp', '-p', '0', '--pcap', 'x.pcapng'], '--pcap does not apply to --tcp (captures are of UDP datagrams)'],
  [['listen', '-p', '0', '--pcap-format', 'pcap'], '--pcap-format goes with --pcap FILE'],
  [['listen', '-p', '0', '--iface', 'eth0'], '--iface applies to multicast: give --join GROUP too'],
  [['listen', '-p', '0', '--source', '10.0.0.1'], '--source applies to multicast: give --join GROUP too'],
  [['send', '127.0.0.1:9', '--window', '5', 'x'], '--window applies only with --ack'],
  [['send', '127.0.0.1:9', '--ack-timeout', '5', 'x'], '--ack-timeout applies only with --ack'],
  [['send', '127.0.0.1:9', '--ack', '-w', '1', 'x'], '-w/--wait-reply does not apply to --ack (its acknowledgements are the replies)'],
  [['send', '127.0.0.1:9', '--ack', '-i', '10', 'x'], '-i/--interval does not apply to --ack (the --window paces it)'],
  [['send', '127.0.0.1:9', '--tcp', '--ack', 'x'], '--ack does not apply to --tcp (TCP delivers reliably itself)'],
  [['send', '127.0.0.1:9', '--tcp', '-w', '2', 'x'], '-w/--wait-reply does not apply to --tcp'],
  [['send', '127.0.0.1:9', '--tcp', '--broadcast', 'x'], '--broadcast does not apply to --tcp'],
  [['send', '127.0.0.1:9', '--tcp', '-s', '127.0.0.1', 'x'], '-s/--source does not apply to --tcp'],
  [['send', '127.0.0.1:9', '--tcp', '-i', '5', 'x'], '-i/--interval does not apply to --tcp'],
  [['send', '127.0.0.1:9', '--tcp', '--ttl', '2', 'x'], '--ttl does not apply to --tcp (multicast is UDP only)'],
  [['send', '127.0.0.1:9', '--tcp', '--iface', 'lo', 'x'], '--iface does not apply to --tcp (multicast is UDP only)'],
  [['send', '127.0.0.1:9', '--tcp', '--no-loop', 'x'], '--no-loop does not apply to --tcp (multicast is UDP only)'],
  [['send', '127.0.0.1:9', '--tcp', '-4', 'x'], '-4/--ipv4 does not apply to --tcp (give an IPv4 address as HOST instead)'],
  [['send', '::1', '--tcp', '-6', 'x'], '-6/--ipv6 does not apply to --tcp (give an IPv6 address as HOST instead)'],
  [['send', '127.0.0.1:9', '--speed', '2', 'x'], '--speed applies only with --replay'],
  [['send', '127.0.0.1:9', '--filter-port', '53', 'x'], '--filter-port applies only with --replay'],
  [['send', '127.0.0.1:9', '--repeat', '2', 'x'], '--repeat applies only with --replay'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '--file', 'b'], '--file does not apply to --replay (the capture holds the payloads)'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '--raw'], '--raw does not apply to --replay (the capture holds the payloads)'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '--hex', 'ff'], '--hex does not apply to --replay (the capture holds the payloads)'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '-c', '2'], '-c/--count does not apply to --replay (use --repeat)'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '-i', '5'], "-i/--interval does not apply to --replay (the capture's gaps and --speed pace it)"],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '-w', '1'], '-w/--wait-reply does not apply to --replay'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '--tcp'], '--replay does not apply to --tcp (a capture replays as UDP datagrams)'],
  [['bench', '127.0.0.1', '--once'], '--once is for --server'],
  [['bench', '--loopback', '--bind', '127.0.0.1'], '--bind is for --server'],
  [['bench', '--server', '-l', '100'], '-l/--length is for a client'],
  [['bench', '--server', '-t', '1'], '-t/--time is for a client'],
  [['bench', '--server', '--rate', '5'], '--rate is for a client'],
  [['bench', '--server', '--rtt'], '--rtt is for a client'],
  [['bench', '--server', '--json-stream'], '--json-stream is for a client (the server prints one JSON object per session with --json)'],
  [['bench', '--server', '--reverse'], '-R/--reverse is for a client (it asks the server to send)'],
  [['bench', '--server', '--bidir'], '--bidir is for a client (it asks the server to send too)'],
  [['bench', '--server', '--plot', 'run.svg'], "--plot is for a client (it draws the client's report)"],
  [['bench', '--loopback', '--json', '-i', '1'], '-i/--interval prints text lines; with JSON, use --json-stream (an object per interval, then the report)'],
  [['bench', '--loopback', '-p', '5201'], '-p/--port does not apply to --loopback, which picks a free port itself'],
  [['bench', '--loopback', '-4'], '-4/--ipv4 does not apply to --loopback (it runs over 127.0.0.1)'],
  [['bench', '--loopback', '-6'], '-6/--ipv6 does not apply to --loopback (it runs over 127.0.0.1)'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--burst', '5'], '--burst goes with --rate'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--pcap-format', 'pcap'], '--pcap-format goes with --pcap FILE'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--up-only'], '--up-only limits an impairment: give --loss, --gemodel, --corrupt, --dup, --reorder, --delay, --jitter, --rate, --mtu or --profile too'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--down-only'], '--down-only limits an impairment: give --loss, --gemodel, --corrupt, --dup, --reorder, --delay, --jitter, --rate, --mtu or --profile too'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--rate', '10mbit', '--burst', '5'], '--burst is for the policer (--rate in datagrams without --queue-limit); a queue smooths bursts itself'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--queue-limit', '100'], '--queue-limit goes with --rate (the queue of the bottleneck)'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--profile', 'lossy', '--queue-limit', '100'], '--queue-limit goes with --rate (the queue of the bottleneck)'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--loss-burst', '3'], '--loss-burst goes with --loss (the average loss the bursts keep)'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--loss-corr', '25%'], '--loss-corr goes with --loss'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--reorder-gap', '5', '--delay', '10'], '--reorder-gap goes with --reorder'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--reorder', '10%', '--reorder-gap', '5'], '--reorder-gap goes with --delay: netem reorders by letting a datagram skip the delay'],
  // Known only once HOST is parsed: checked by the command, still before any socket.
  [['send', '127.0.0.1:9', '--ttl', '2', 'x'], '--ttl applies to a multicast destination, and 127.0.0.1 is not one'],
  [['send', '127.0.0.1:9', '--loop', 'x'], '--loop applies to a multicast destination, and 127.0.0.1 is not one'],
  [['send', '127.0.0.1', '-c', '2'], '--count repeats one message; it does not apply to stdin lines'],
  [['bench', '--server', '127.0.0.1'], '--server takes no HOST'],
];

/** Values a flag refuses, and the one line that says so. */
const BAD_VALUES: readonly (readonly [readonly string[], string])[] = [
  [['listen', '-p', '70000'], '--port must be an integer from 0 to 65535, got "70000"'],
  [['listen', '-p', '0', '--timeout', 'soon'], '--timeout must be a number of seconds from 0.001 to 2147483, got "soon"'],
  [['listen', '-p', '0', '--bind', 'example.com'], '--bind takes an IP address of this machine, got "example.com"'],
  [['listen', '-p', '0', '--rcvbuf', '1'], '--rcvbuf must be a whole number from 1024 to 2147483647, got "1"'],
  [['listen', '-p', '0', '-n', '0'], '--count must be a whole number from 1 to 9007199254740991, got "0"'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '--speed', 'fast'], '--speed must be a number >= 0 (2: twice as fast, 0: no waiting), got "fast"'],
  [['send', '127.0.0.1:9', '--replay', 'a.pcap', '--repeat', '0'], '--repeat must be a whole number from 1 to 9007199254740991, got "0"'],
  [['listen', '-p', '0', '--json', '--hex'], "option '--json' cannot be used with option '--hex'"],
  [['listen', '-p', '0', '-4', '-6'], "option '-4, --ipv4' cannot be used with option '-6, --ipv6'"],
  [['listen', '-p', '0', '--key', 'a', '--key-file', '/dev/null'], 'give only one of --key, --key-file'],
  [['listen', '--tcp', '-p', '0', '--max-buffered', '32K'], '--max-buffered must be a size from 65536 to 9007199254740991 bytes (K, M, G for KiB, MiB, GiB), got "32K"'],
  [['listen', '--join', 'ff02::1:3', '-4'], '--join: IPv6 groups do not go with -4'],
  [['send', '127.0.0.1', '-c', '0', 'x'], '--count must be a whole number from 1 to 9007199254740991, got "0"'],
  [['send', '127.0.0.1', '-s', 'example', 'x'], '-s/--source takes an IP address of this machine, got "example"'],
  [['send', '127.0.0.1', '--hex', 'zz'], 'not hex bytes (pairs of digits 0-9, a-f): "zz"'],
  [['send', '127.0.0.1', '--hex', '00', 'x'], 'give only one of MESSAGE, --hex'],
  [['send', '127.0.0.1', '--ack', '--window', '0', 'x'], '--window must be a whole number from 1 to 65536, got "0"'],
  [['send', '127.0.0.1', '-w', 'soon', 'x'], '--wait-reply must be a number of seconds from 0.001 to 2147483, got "soon"'],
  [['send'], "missing required argument 'host'"],
  [['broadcast', '-p', '0', 'x'], '--port must be an integer from 1 to 65535, got "0"'],
  [['relay', '-p', '0', '--to', '127.0.0.1'], '--to needs HOST:PORT (or [IPv6]:PORT), got "127.0.0.1"'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--loss', '2'], '--loss must be a rate from 0 to 1 (or 0% to 100%), got "2"'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--rate', '10mbps'], '--rate must be datagrams per second (1000) or bits per second with a unit (500kbit, 10mbit, 1gbit), got "10mbps"'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--loss', '90%', '--loss-burst', '2'], 'a --loss of 0.9 in bursts of 2 needs the good state to last under one datagram: make the bursts longer'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--gemodel', '1%,2,3'], '--gemodel r must be a rate from 0 to 1 (or 0% to 100%), got "2"'],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--gemodel', '1%', '--loss', '5%'], "option '--gemodel <p,r,1-h,1-k>' cannot be used with option '--loss <rate>'"],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--profile', 'dialup'], "option '--profile <name>' argument 'dialup' is invalid. Allowed choices are wifi, 3g, satellite, lossy."],
  [['relay', '-p', '0', '--to', '127.0.0.1:9', '--up-only', '--down-only', '--loss', '1'], "option '--up-only' cannot be used with option '--down-only'"],
  [['relay', '--to', '127.0.0.1:9'], "required option '-p, --port <port>' not specified"],
  [['chat', '--name', ''], '--name takes 1 to 100 printable characters, got ""'],
  [['chat', '-p', '70000'], '--port must be an integer from 0 to 65535, got "70000"'],
  [['ui', '-p', 'x'], '--port must be an integer from 0 to 65535, got "x"'],
  [['ui', '--host', ''], '--host takes an address'],
  [['bench', '--loopback', '-l', '10'], '-l/--length must be a whole number from 28 to 65535, got "10"'],
  [['bench'], 'bench needs HOST[:PORT] to test against, --server, or --loopback'],
  [['completion', 'fish'], "command-argument value 'fish' is invalid for argument 'shell'. Allowed choices are bash, zsh."],
  [['info', '--verbose'], "unknown option '--verbose'"],
];

async function expectUsage(argv: readonly string[], line: string): Promise<void> {
  const r = await runInProcess(argv);
  expect(r).toEqual({ code: 2, stdout: '', stderr: `udpkit: ${line}\nhint: see 'udpkit ${argv[0]} --help'\n` });
}

describe('flags that do not apply', () => {
  it.each(INAPPLICABLE)('udpkit %j exits 2 naming the flag', async (argv, line) => {
    await expectUsage(argv, line);
  });

  it('has a case above for every rule that a command declares', () => {
    for (const spec of Object.values(SPECS)) {
      for (const rule of spec.rules ?? []) {
        const covered = INAPPLICABLE.some(([argv, line]) => argv[0] === spec.name && line.endsWith(` ${rule.why}`));
        expect(covered, `${spec.name}: ${String(rule.flag)} ${rule.why}`).toBe(true);
      }
    }
  });

  it('does not refuse a flag that only has its default value', async () => {
    // -p has a default for listen; --tcp does not make the default a usage error.
    const r = await runInProcess(['listen', '--tcp', '--bind', '127.0.0.1', '-p', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^listening on 127\.0\.0\.1:\d+\/tcp; stops on "bye"\n/);
  });
});

describe('bad values', () => {
  it.each(BAD_VALUES)('udpkit %j exits 2 with one line', async (argv, line) => {
    await expectUsage(argv, line);
  });
});

describe('misspellings', () => {
  it('suggests the flag on the same line, then the hint', async () => {
    const r = await runInProcess(['send', '127.0.0.1', '--windw', '5', 'x']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: "udpkit: unknown option '--windw' (did you mean --window?)\nhint: see 'udpkit send --help'\n" });
  });

  it('suggests the flag under an alias too', async () => {
    const r = await runInProcess(['receive', '--jsn']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: "udpkit: unknown option '--jsn' (did you mean --json?)\nhint: see 'udpkit receive --help'\n" });
  });

  it('suggests the command', async () => {
    const r = await runInProcess(['sned', '127.0.0.1', 'x']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: "udpkit: unknown command 'sned' (did you mean send?)\nhint: see 'udpkit --help'\n" });
  });
});

describe('help', () => {
  it.each(Object.values(SPECS).map((s) => [s.name] as const))('udpkit %s --help ends with 2 to 4 examples', async (name) => {
    const r = await runInProcess([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const [, examples] = r.stdout.split('\nExamples:\n');
    expect(examples).toBeDefined();
    const lines = examples!.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(4);
    for (const l of lines) expect(l).toMatch(new RegExp(`^  (.*\\| )?udpkit ${name} |^  source <\\(udpkit ${name} |^  (.*\\| )?udpkit ${name}$`));
  });

  it('names every command and alias at the top level', async () => {
    const r = await runInProcess(['--help']);
    expect(r.code).toBe(0);
    for (const spec of Object.values(SPECS)) {
      for (const name of [spec.name, ...(spec.aliases ?? [])]) {
        expect(PROGRAM_DESCRIPTION).toMatch(new RegExp(`\\b${name}\\b`));
        expect(r.stdout).toMatch(new RegExp(`\\n  ${spec.name}(\\|${spec.aliases?.join('|') ?? ''})? `));
      }
    }
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(PROGRAM_DESCRIPTION);
  });

  it('shows help on stderr and exits 2 with no arguments', async () => {
    const r = await runInProcess([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: udpkit \[options\] \[command\]\n/);
  });
});

describe('option parsing reaches the command', () => {
  it('listen: port, address and --no-stop-word', async () => {
    const r = await runInProcess(['receive', '-p', '0', '--bind', '127.0.0.1', '--no-stop-word']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^listening on 127\.0\.0\.1:\d+\/udp\nreceived 0 datagrams, 0 bytes; kernel dropped \S+\n$/);
  });

  it('completion: the shell argument picks the script', async () => {
    const bash = await runInProcess(['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toMatch(/\ncomplete -F _udpkit udpkit\n$/);
    const zsh = await runInProcess(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef udpkit\n/);
  });
});
