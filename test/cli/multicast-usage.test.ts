/** Multicast flags refused before any socket is opened: usage errors, exit 2, one line and a hint. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('multicast usage errors', () => {
  it.each([
    [['listen', '--join', '10.77.0.1'], /^udpkit: --join: "10\.77\.0\.1" is not a multicast group \(IPv4 224\.0\.0\.0\/4 or IPv6 ff00::\/8\)\n/],
    [['listen', '--join', '239.1.1.1,ff02::1'], /^udpkit: --join: groups must all be IPv4 or all IPv6/],
    [['listen', '--join', '239.1.1.1', '--source', 'fe80::1'], /^udpkit: --source takes an IPv4 address \(the groups are IPv4\), got "fe80::1"\n/],
    [['listen', '--join', 'ff02::1:3', '-4'], /^udpkit: --join: IPv6 groups do not go with -4\n/],
    [['listen', '--iface', 'eth0'], /^udpkit: --iface applies to multicast: give --join GROUP too\n/],
    [['listen', '--source', '10.0.0.1'], /^udpkit: --source applies to multicast: give --join GROUP too\n/],
    [['send', '239.1.1.1', '--ttl', '256', 'x'], /^udpkit: --ttl must be a whole number from 0 to 255, got "256"\n/],
    [['send', '127.0.0.1', '--ttl', '2', 'x'], /^udpkit: --ttl applies to a multicast destination, and 127\.0\.0\.1 is not one\n/],
    [['send', '127.0.0.1', '--no-loop', 'x'], /^udpkit: --no-loop applies to a multicast destination/],
  ])('udpkit %j', async (args, stderr) => {
    const r = await runCli(args);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(stderr);
  });
});
