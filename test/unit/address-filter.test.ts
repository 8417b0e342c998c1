import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { createAddressFilter, parseCidrList } from '../../src/net/address-filter.js';

describe('parseCidrList', () => {
  it('normalises CIDRs and bare addresses, split on commas, across repeated flags', () => {
    expect(parseCidrList('192.168.1.0/24, fe80::/10')).toEqual(['192.168.1.0/24', 'fe80::/10']);
    expect(parseCidrList(['127.0.0.2', '::1,10.0.0.0/8'])).toEqual(['127.0.0.2/32', '::1/128', '10.0.0.0/8']);
  });

  it.each(['10.0.0.0/33', 'fe80::/129', 'host.example', '1.2.3', '10.0.0.0/', '/8'])('refuses %j with a coded TypeError', (bad) => {
    let err: unknown;
    try {
      parseCidrList(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: `not an address or CIDR: ${JSON.stringify(bad)} (e.g. 192.168.1.0/24, fe80::/10)` });
  });

  it('refuses an empty list', () => {
    expect(() => parseCidrList(' , ')).toThrow(/the allow-list is empty/);
  });

  it('never throws anything but a coded error, for any string', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseCidrList(s);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('UDPKIT_INVALID_ARGUMENT');
        }
      }),
    );
  });
});

describe('createAddressFilter', () => {
  it('matches IPv4 and IPv6 ranges, exact addresses, and IPv4 against IPv4-mapped ranges', () => {
    const ok = createAddressFilter(parseCidrList('192.168.1.0/24,fe80::/10,127.0.0.2,::ffff:10.0.0.0/104'));
    expect(ok('192.168.1.77')).toBe(true);
    expect(ok('192.168.2.1')).toBe(false);
    expect(ok('fe80::1')).toBe(true);
    expect(ok('fe80::1%eth0')).toBe(true);
    expect(ok('2001:db8::1')).toBe(false);
    expect(ok('127.0.0.2')).toBe(true);
    expect(ok('127.0.0.1')).toBe(false);
    expect(ok('10.1.2.3')).toBe(true);
    expect(ok('::ffff:192.168.1.5')).toBe(true);
    expect(ok('not an address')).toBe(false);
  });

  it('agrees with a bit-by-bit comparison for any IPv4 address and prefix (cached or not)', () => {
    const toInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.ipV4(), (net, bits, addr) => {
        const ok = createAddressFilter([`${net}/${bits}`]);
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        const expected = ((toInt(net) & mask) >>> 0) === ((toInt(addr) & mask) >>> 0);
        expect(ok(addr)).toBe(expected);
        expect(ok(addr)).toBe(expected);
      }),
    );
  });

  it('agrees with ipaddr.js for any IPv6 address and prefix', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), fc.ipV6(), (net, bits, addr) => {
        const ok = createAddressFilter([`${ipaddr.parse(net).toString()}/${bits}`]);
        const a = ipaddr.parse(addr);
        const expected = a.kind() === 'ipv6' && a.match(ipaddr.parse(net), bits);
        // An IPv4-mapped address is shown as IPv4 by the listener; both spellings must agree.
        expect(ok(addr)).toBe(expected || (ipaddr.IPv6.parse(addr).isIPv4MappedAddress() && ok(ipaddr.IPv6.parse(addr).toIPv4Address().toString())));
      }),
    );
  });
});
