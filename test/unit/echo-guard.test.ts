import { describe, expect, it } from 'vitest';
import { addressKind, canonicalAddress, localAddressesOf } from '../../src/net/local-addresses.js';
import { ECHO_PEER_LIMIT, EchoGuard, type EchoRefusal } from '../../src/protocol/echo-guard.js';

/** A machine with one LAN interface and a link-local IPv6 address, as os.networkInterfaces() shows it. */
const interfaces = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
  ],
  eth0: [
    { address: '192.168.7.20', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.7.20/24' },
    { address: 'fe80::1:2ff:fe00:1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1:2ff:fe00:1/64', scopeid: 2 },
  ],
} as const;
const local = localAddressesOf(interfaces as never, ['10.9.8.7']);
const PORT = 5000;
const guard = (options: Partial<ConstructorParameters<typeof EchoGuard>[0]> = {}): EchoGuard =>
  new EchoGuard({ port: PORT, addressKind: (a) => addressKind(a, local), ...options });
const from = (address: string, port: number, payload = 'x', answer = false) => ({ address, port, payload: Buffer.from(payload), answer });

describe('local addresses', () => {
  it('spells an address one way: no scope, IPv4-mapped as IPv4, IPv6 compressed', () => {
    expect(canonicalAddress('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalAddress('::ffff:c0a8:714')).toBe('192.168.7.20');
    expect(canonicalAddress('FE80:0:0:0:1:2ff:fe00:1%eth0')).toBe('fe80::1:2ff:fe00:1');
    expect(canonicalAddress('1')).toBeUndefined();
    expect(canonicalAddress('example.com')).toBeUndefined();
  });

  it('knows loopback, interface, bound, broadcast, multicast and unspecified addresses', () => {
    const kinds = Object.fromEntries(
      ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '192.168.7.20', '::ffff:192.168.7.20', 'fe80::1:2ff:fe00:1%eth0', '10.9.8.7',
        '192.168.7.255', '255.255.255.255', '224.0.0.1', 'ff02::1', '0.0.0.0', '::', '192.168.7.21', '2001:db8::1', 'nonsense']
        .map((a) => [a, addressKind(a, local)]),
    );
    expect(kinds).toEqual({
      '127.0.0.1': 'local', '127.9.9.9': 'local', '::1': 'local', '::ffff:127.0.0.1': 'local', '192.168.7.20': 'local',
      '::ffff:192.168.7.20': 'local', 'fe80::1:2ff:fe00:1%eth0': 'local', '10.9.8.7': 'local',
      '192.168.7.255': 'broadcast', '255.255.255.255': 'broadcast', '224.0.0.1': 'multicast', 'ff02::1': 'multicast',
      '0.0.0.0': 'unspecified', '::': 'unspecified', '192.168.7.21': 'other', '2001:db8::1': 'other', nonsense: 'invalid',
    });
  });
});

describe('EchoGuard: where an echo may go', () => {
  it('never answers its own port on any address of this machine, in any spelling', () => {
    const g = guard();
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '192.168.7.20', '::ffff:192.168.7.20', 'fe80::1:2ff:fe00:1%eth0', '10.9.8.7']) {
      expect(g.check(from(a, PORT), 0)).toBe('own-address');
    }
    // Another port on this machine, or its port on another host, is someone else.
    expect(g.check(from('127.0.0.1', PORT + 1), 0)).toBeUndefined();
    expect(g.check(from('192.168.7.21', PORT), 0)).toBeUndefined();
  });

  it('never answers a source that is not one unicast host', () => {
    const g = guard();
    for (const [a, p] of [['192.168.7.30', 0], ['0.0.0.0', 9], ['::', 9], ['255.255.255.255', 9], ['192.168.7.255', 9], ['224.0.0.251', 5353], ['ff02::1', 9], ['bogus', 9]] as const) {
      expect(g.check(from(a, p), 0)).toBe('not-unicast');
    }
  });

  it('never answers a datagram sealed as an answer', () => {
    expect(guard().check(from('192.168.7.21', 40000, 'echo', true), 0)).toBe('answer');
  });
});

describe('EchoGuard: limits', () => {
  it('answers the same payload to the same peer twice at once, then once a second, for ever', () => {
    const g = guard();
    const results = [0, 0, 0].map(() => g.check(from('192.168.7.21', 40000, 'ping'), 0));
    expect(results).toEqual([undefined, undefined, 'same-payload']);
    expect(g.check(from('192.168.7.21', 40000, 'ping'), 999)).toBe('same-payload');
    for (let t = 1000; t <= 100_000; t += 1000) expect(g.check(from('192.168.7.21', 40000, 'ping'), t)).toBeUndefined();
    // Other payloads, and the same payload to another port, have their own buckets.
    expect(g.check(from('192.168.7.21', 40000, 'pong'), 100_000)).toBeUndefined();
    expect(g.check(from('192.168.7.21', 40001, 'ping'), 100_000)).toBeUndefined();
  });

  it('answers 1000 distinct messages at once from one peer, then holds that peer to 1000 a second', () => {
    const g = guard();
    const first = Array.from({ length: 1001 }, (_, i) => g.check(from('192.168.7.21', 40000, `m${i}`), 0));
    expect(first.slice(0, 1000).every((r) => r === undefined)).toBe(true);
    expect(first[1000]).toBe('peer-rate');
    expect(ECHO_PEER_LIMIT).toEqual({ rate: 1000, burst: 1000 });
    // The limit is per address: any port of that host shares it, another host does not.
    expect(g.check(from('192.168.7.21', 40001, 'n'), 0)).toBe('peer-rate');
    expect(g.check(from('192.168.7.22', 40000, 'n'), 0)).toBeUndefined();
    expect(g.check(from('192.168.7.21', 40000, 'later'), 1)).toBeUndefined();
  });

  it('keeps at most maxPeers keys in each table', () => {
    const g = guard({ maxPeers: 100 });
    for (let i = 0; i < 10_000; i++) g.check(from(`10.${(i >> 8) & 255}.${i & 255}.1`, 40000, `p${i}`), i);
    expect(g.size).toEqual({ peers: 100, payloads: 100 });
  });
});

describe('EchoGuard: two echo listeners bouncing one forged datagram', () => {
  /** Bounces one payload between guards A and B (first arrival at B), `hopMs` per hop, for `ms`. */
  function bounce(hopMs: number, ms: number): { shownA: number; shownB: number; stopped: EchoRefusal | undefined } {
    const a = guard({ port: 40001 });
    const b = guard({ port: 40002 });
    let now = 0;
    const shown = { a: 0, b: 0 };
    let at: 'a' | 'b' = 'b';
    while (now <= ms) {
      shown[at]++;
      const why = (at === 'a' ? a : b).check(from('198.51.100.7', at === 'a' ? 40002 : 40001, 'ping-pong'), now);
      if (why !== undefined) return { shownA: shown.a, shownB: shown.b, stopped: why };
      at = at === 'a' ? 'b' : 'a';
      now += hopMs;
    }
    return { shownA: shown.a, shownB: shown.b, stopped: undefined };
  }

  it('ends after two echoes each way on a fast path (round trip up to a few hundred ms)', () => {
    for (const hop of [0, 1, 100]) expect(bounce(hop, 60_000)).toEqual({ shownA: 2, shownB: 3, stopped: 'same-payload' });
  });

  it('ends later, but ends, when the round trip nears a second (the bucket refills between bounces)', () => {
    expect(bounce(400, 60_000)).toEqual({ shownA: 6, shownB: 7, stopped: 'same-payload' });
  });

  it('(what remains) goes on at one datagram per round trip when the round trip is over a second', () => {
    const slow = bounce(600, 60_000);
    expect(slow.stopped).toBeUndefined();
    expect(slow.shownA + slow.shownB).toBe(101);
  });
});
