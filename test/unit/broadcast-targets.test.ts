import { describe, expect, it } from 'vitest';
import { listInterfaces } from '../../src/net/interfaces.js';
import { broadcast, broadcastTargets } from '../../src/transport/broadcast.js';
import { fakeNetOs, loadSnapshot } from '../helpers/fake-net-os.js';

const laptop = await listInterfaces(fakeNetOs(loadSnapshot('laptop')));

describe('broadcastTargets', () => {
  it('sends to each directed broadcast address of every up, non-loopback interface, from its own address', () => {
    expect(broadcastTargets(laptop, { port: 5000 })).toEqual([
      { iface: 'enp3s0', localAddress: '10.0.0.5', address: '10.0.0.255', port: 5000 },
      { iface: 'enp3s0', localAddress: '192.168.50.2', address: '192.168.50.255', port: 5000 },
      { iface: 'wlp2s0', localAddress: '192.168.1.23', address: '192.168.1.255', port: 5000 },
    ]);
  });

  it('sends limited broadcast once per interface that can broadcast', () => {
    expect(broadcastTargets(laptop, { port: 9, limited: true })).toEqual([
      { iface: 'enp3s0', localAddress: '10.0.0.5', address: '255.255.255.255', port: 9 },
      { iface: 'wlp2s0', localAddress: '192.168.1.23', address: '255.255.255.255', port: 9 },
    ]);
  });

  it('keeps to the interface asked for', () => {
    expect(broadcastTargets(laptop, { port: 5000, iface: 'wlp2s0' })).toEqual([
      { iface: 'wlp2s0', localAddress: '192.168.1.23', address: '192.168.1.255', port: 5000 },
    ]);
  });

  it.each([
    ['nope', 'no interface named nope'],
    ['docker0', 'interface docker0 is down'],
    ['tun0', 'interface tun0 has no IPv4 address with a broadcast address'],
    ['eno1', 'interface eno1 is down'],
  ])('refuses --iface %s: %s', (iface, message) => {
    expect(() => broadcastTargets(laptop, { port: 5000, iface })).toThrow(expect.objectContaining({ code: 'UDPKIT_NO_INTERFACE', message }));
  });

  it('refuses when no interface can broadcast', () => {
    const onlyLoopbackAndTun = laptop.filter((i) => i.name === 'lo' || i.name === 'tun0');
    expect(() => broadcastTargets(onlyLoopbackAndTun, { port: 5000 })).toThrow(
      expect.objectContaining({ code: 'UDPKIT_NO_INTERFACE', message: 'no up IPv4 interface with a broadcast address' }),
    );
  });
});

describe('broadcast: argument checks before any socket is opened', () => {
  it('rejects a bad port with a RangeError coded UDPKIT_INVALID_PORT', async () => {
    const err = await broadcast('x', { port: 70000, interfaces: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ code: 'UDPKIT_INVALID_PORT' });
  });

  it('rejects a message larger than one IPv4 datagram', async () => {
    await expect(broadcast(Buffer.alloc(65508), { interfaces: [] })).rejects.toMatchObject({ code: 'UDPKIT_MESSAGE_TOO_LARGE' });
  });

  it('rejects with UDPKIT_NO_INTERFACE when there is nowhere to send', async () => {
    await expect(broadcast('x', { interfaces: [] })).rejects.toMatchObject({ code: 'UDPKIT_NO_INTERFACE' });
  });
});

describe('broadcast: abort', () => {
  it('rejects with the abort reason, opening no socket, when the signal is already aborted', async () => {
    const laptopOnly = laptop.filter((i) => i.name === 'wlp2s0');
    await expect(broadcast('x', { interfaces: laptopOnly, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
