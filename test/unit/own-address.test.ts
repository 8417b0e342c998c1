/** Which destinations come back to a socket of this machine (a relay to its own port would loop). */
import { describe, expect, it } from 'vitest';
import { isOwnAddress } from '../../src/net/own-address.js';
import { loadSnapshot } from '../helpers/fake-net-os.js';

const interfaces = loadSnapshot('laptop').networkInterfaces;

describe('isOwnAddress', () => {
  it.each([
    '127.0.0.1',
    '127.3.4.5',
    '::1',
    '[::1]',
    '0.0.0.0',
    '::',
    '::ffff:127.0.0.1',
    '10.0.0.5',
    '::ffff:192.168.1.23',
    '2001:db8:1::5',
    'fe80::3e52:82ff:fe0a:1b2c%enp3s0',
    '172.17.0.1',
  ])('%s reaches a socket bound to every address', (address) => {
    expect(isOwnAddress(address, undefined, interfaces)).toBe(true);
    expect(isOwnAddress(address, '::', interfaces)).toBe(true);
    expect(isOwnAddress(address, '0.0.0.0', interfaces)).toBe(true);
  });

  it.each(['10.0.0.6', '192.168.1.1', '2001:db8:1::6', '8.8.8.8', 'fe80::1', 'localhost', 'not an address'])('%s does not', (address) => {
    expect(isOwnAddress(address, undefined, interfaces)).toBe(false);
  });

  it('with a specific bound address, only that address (and the unspecified one for loopback) comes back', () => {
    expect(isOwnAddress('127.0.0.1', '127.0.0.1', interfaces)).toBe(true);
    expect(isOwnAddress('::ffff:127.0.0.1', '127.0.0.1', interfaces)).toBe(true);
    expect(isOwnAddress('0.0.0.0', '127.0.0.1', interfaces)).toBe(true);
    expect(isOwnAddress('127.0.0.2', '127.0.0.1', interfaces)).toBe(false);
    expect(isOwnAddress('10.0.0.5', '127.0.0.1', interfaces)).toBe(false);
    expect(isOwnAddress('10.0.0.5', '10.0.0.5', interfaces)).toBe(true);
    expect(isOwnAddress('::1', '[::1]', interfaces)).toBe(true);
    expect(isOwnAddress('::1', '127.0.0.1', interfaces)).toBe(false);
  });
});
