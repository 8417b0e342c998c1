import { describe, expect, it } from 'vitest';
import type { NetworkInterface } from '../../src/net/interfaces.js';
import {
  applyMulticastSend,
  isMulticastAddress,
  joinGroups,
  multicastInterfaceFor,
  multicastSendOptions,
  validateGroups,
  validateSource,
  validateTtl,
  type MulticastSendSocket,
} from '../../src/socket/multicast.js';
import { thrown } from '../helpers/thrown.js';

const eth0: NetworkInterface = {
  name: 'eth0',
  state: 'up',
  loopback: false,
  broadcast: true,
  multicast: true,
  ipv4: [{ address: '10.77.0.2', prefixLength: 24, netmask: '255.255.255.0', broadcast: '10.77.0.255' }],
  ipv6: [{ address: 'fe80::2', prefixLength: 64, scope: 'link', scopeId: 2 }],
};
const tun0: NetworkInterface = { name: 'tun0', state: 'up', loopback: false, broadcast: false, multicast: false, ipv4: [], ipv6: [] };

describe('isMulticastAddress', () => {
  it('knows 224.0.0.0/4 and ff00::/8, and nothing else', () => {
    for (const a of ['224.0.0.1', '239.77.0.1', '239.255.255.255', 'ff02::1', 'ff05::1:3', 'ff02::1%eth0']) expect(isMulticastAddress(a)).toBe(true);
    for (const a of ['223.255.255.255', '240.0.0.1', '10.77.0.255', '255.255.255.255', 'fe80::1', '::1', 'example.com', '']) expect(isMulticastAddress(a)).toBe(false);
  });
});

describe('validateGroups', () => {
  it('splits commas, accepts repeats and brackets, and reports the family', () => {
    expect(validateGroups(['239.77.0.1,239.77.0.2', '224.0.0.251'])).toEqual({ groups: ['239.77.0.1', '239.77.0.2', '224.0.0.251'], family: 4 });
    expect(validateGroups('[ff02::1:3]')).toEqual({ groups: ['ff02::1:3'], family: 6 });
  });

  it('refuses unicast, names, empty entries and mixed families with a usage code', () => {
    for (const bad of ['10.77.0.1', 'group', '239.77.0.1,', '', '239.77.0.1,ff02::1']) {
      const err = thrown(() => validateGroups(bad, '--join'));
      expect(err).toBeInstanceOf(RangeError);
      expect(err).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: expect.stringMatching(/^--join/) });
    }
  });
});

describe('validateSource and validateTtl', () => {
  it('wants a source of the groups\' family', () => {
    expect(validateSource('10.77.0.1', 4)).toBe('10.77.0.1');
    expect(validateSource('[fe80::1]', 6)).toBe('fe80::1');
    expect(thrown(() => validateSource('fe80::1', 4, '--source'))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => validateSource('host', 4))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });

  it('takes a TTL from 0 to 255', () => {
    expect(validateTtl('0')).toBe(0);
    expect(validateTtl(255)).toBe(255);
    for (const bad of ['256', '-1', '1.5', 'x']) expect(thrown(() => validateTtl(bad, '--ttl'))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });
});

describe('multicastInterfaceFor', () => {
  const list = [eth0, tun0];
  it('maps a name to its IPv4 address, or to ::%NAME for IPv6', () => {
    expect(multicastInterfaceFor('eth0', 4, list)).toBe('10.77.0.2');
    expect(multicastInterfaceFor('eth0', 6, list)).toBe('::%eth0');
  });

  it('passes addresses through, and finds the interface of an IPv6 one', () => {
    expect(multicastInterfaceFor('10.77.0.2', 4, list)).toBe('10.77.0.2');
    expect(multicastInterfaceFor('fe80::2', 6, list)).toBe('::%eth0');
    expect(multicastInterfaceFor('fe80::9%eth1', 6, [])).toBe('::%eth1');
  });

  it('says what is wrong: unknown name, no IPv4 address, wrong family', () => {
    expect(thrown(() => multicastInterfaceFor('nope0', 4, list))).toMatchObject({ code: 'UDPKIT_NO_INTERFACE', message: 'no interface named nope0' });
    expect(thrown(() => multicastInterfaceFor('tun0', 4, list))).toMatchObject({ code: 'UDPKIT_NO_INTERFACE', message: 'interface tun0 has no IPv4 address' });
    expect(thrown(() => multicastInterfaceFor('10.77.0.2', 6, list))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => multicastInterfaceFor('fe80::2', 4, list))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });
});

describe('joinGroups', () => {
  it('joins each group, source-specific when a source is given', () => {
    const calls: unknown[][] = [];
    const socket = {
      addMembership: (...a: unknown[]) => void calls.push(['any', ...a]),
      addSourceSpecificMembership: (...a: unknown[]) => void calls.push(['ssm', ...a]),
    };
    joinGroups(socket, { groups: ['239.1.1.1', '239.1.1.2'], iface: '10.0.0.2' });
    joinGroups(socket, { groups: ['232.1.1.1'], source: '10.0.0.1' });
    expect(calls).toEqual([
      ['any', '239.1.1.1', '10.0.0.2'],
      ['any', '239.1.1.2', '10.0.0.2'],
      ['ssm', '10.0.0.1', '232.1.1.1', undefined],
    ]);
  });

  it('turns an OS refusal into one coded line naming the group and interface', () => {
    const refuse = (): never => {
      throw Object.assign(new Error('addMembership EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
    };
    const err = thrown(() => joinGroups({ addMembership: refuse, addSourceSpecificMembership: refuse }, { groups: ['239.1.1.1'], iface: '10.9.9.9' }));
    expect(err).toMatchObject({
      code: 'UDPKIT_IO_FAILED',
      errno: 'EADDRNOTAVAIL',
      syscall: 'setsockopt',
      message: 'cannot join multicast group 239.1.1.1 on 10.9.9.9: address not available on this machine',
    });
  });
});

describe('joinGroups without an interface and without a route', () => {
  it('turns ENODEV into a hint naming the group and --iface', () => {
    const noRoute = (): never => {
      throw Object.assign(new Error('addMembership ENODEV'), { code: 'ENODEV' });
    };
    const err = thrown(() => joinGroups({ addMembership: noRoute, addSourceSpecificMembership: noRoute }, { groups: ['239.1.1.1'] }));
    expect(err).toMatchObject({
      code: 'UDPKIT_IO_FAILED',
      errno: 'ENODEV',
      message: 'cannot join multicast group 239.1.1.1: no route says which interface to join it on; name one with the iface option',
      option: 'iface',
    });
    // With an interface given, the hint would be wrong: the plain reason.
    const named = thrown(() => joinGroups({ addMembership: noRoute, addSourceSpecificMembership: noRoute }, { groups: ['239.1.1.1'], iface: '10.0.0.2' }));
    expect(named).toMatchObject({ message: 'cannot join multicast group 239.1.1.1 on 10.0.0.2: no such device' });
  });
});

describe('multicast send options', () => {
  function fakeSocket() {
    const calls: unknown[][] = [];
    const socket: MulticastSendSocket = {
      setMulticastTTL: (ttl: number) => (calls.push(['ttl', ttl]), ttl),
      setMulticastLoopback: (on: boolean) => (calls.push(['loop', on]), on),
      setMulticastInterface: (iface: string) => void calls.push(['iface', iface]),
    };
    return { socket, calls };
  }

  it('defaults to TTL 1 and loopback on, and those reach the socket', async () => {
    const options = await multicastSendOptions({}, 4);
    expect(options).toEqual({ ttl: 1, loopback: true });
    const { socket, calls } = fakeSocket();
    applyMulticastSend(socket, options);
    expect(calls).toEqual([['ttl', 1], ['loop', true]]);
  });

  it('passes TTL, loopback off and an interface address through', async () => {
    const options = await multicastSendOptions({ ttl: 16, multicastLoopback: false, multicastInterface: '10.77.0.2' }, 4);
    const { socket, calls } = fakeSocket();
    applyMulticastSend(socket, options);
    expect(calls).toEqual([['ttl', 16], ['loop', false], ['iface', '10.77.0.2']]);
  });

  it('refuses a TTL out of range', async () => {
    await expect(multicastSendOptions({ ttl: 300 }, 4)).rejects.toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });
});
