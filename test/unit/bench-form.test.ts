/** The page's Bench form: its bounds, and the destinations it refuses (no DNS: a fake lookup). */
import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { gateBenchForm, toBenchForm, type BenchForm } from '../../src/ui/bench-form.js';
import type { Lookup } from '../../src/types.js';

const lan: NodeJS.Dict<os.NetworkInterfaceInfo[]> = {
  eth0: [{ address: '192.168.7.20', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.7.20/24' }],
};
const names: Record<string, string> = { 'bench.test': '10.1.2.3', 'group.test': '239.9.9.9', 'lanbcast.test': '192.168.7.255' };
const lookup: Lookup = async (hostname) => {
  const address = names[hostname];
  if (address === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return [{ address, family: 4 }];
};
const form = (body: object): BenchForm => {
  const f = toBenchForm(body);
  if (typeof f === 'string') throw new Error(f);
  return f;
};

describe('toBenchForm', () => {
  it('fills in the CLI defaults (5 s, 10,000/s, 64 bytes, port 5201)', () => {
    expect(toBenchForm({ host: ' 127.0.0.1 ' })).toEqual({ loopback: false, host: '127.0.0.1', port: 5201, durationMs: 5000, rate: 10_000, length: 64, rtt: false });
  });

  it('takes seconds with decimals, and ignores host and port with loopback', () => {
    expect(toBenchForm({ loopback: true, host: 'ignored', port: 'nonsense', seconds: 0.25, rate: '2000', length: 1472, rtt: true })).toEqual({
      loopback: true, host: '127.0.0.1', port: 0, durationMs: 250, rate: 2000, length: 1472, rtt: true,
    });
  });

  it.each([
    [{ host: '' }, 'host is required (or tick loopback)'],
    [{ host: 5 }, 'host is required (or tick loopback)'],
    [{ loopback: true, seconds: 'x' }, 'seconds: more than 0, at most 30'],
    [{ loopback: true, seconds: 30.001 }, 'seconds: more than 0, at most 30'],
    [{ loopback: true, rate: 1.5 }, 'rate must be a whole number from 1 to 100000, got "1.5"'],
    [{ host: 'h', port: 65536 }, expect.stringMatching(/port/i)],
  ])('refuses %j', (body, why) => {
    expect(toBenchForm(body)).toEqual(why);
  });
});

describe('gateBenchForm', () => {
  it('resolves the host once, so the run goes to the address that was checked', async () => {
    expect(await gateBenchForm(form({ host: 'bench.test' }), { lookup, interfaces: lan })).toMatchObject({ host: '10.1.2.3', port: 5201 });
  });

  it.each([
    ['255.255.255.255', '255.255.255.255 is a broadcast address: a bench run goes to one host only'],
    ['192.168.7.255', '192.168.7.255 is a broadcast address: a bench run goes to one host only'],
    ['lanbcast.test', 'lanbcast.test (192.168.7.255) is a broadcast address: a bench run goes to one host only'],
    ['224.0.0.1', '224.0.0.1 is a multicast address: a bench run goes to one host only'],
    ['group.test', 'group.test (239.9.9.9) is a multicast address: a bench run goes to one host only'],
    ['::ffff:239.1.1.1', '::ffff:239.1.1.1 is a multicast address: a bench run goes to one host only'],
    ['ff05::2', 'ff05::2 is a multicast address: a bench run goes to one host only'],
  ])('refuses %s', async (host, why) => {
    expect(await gateBenchForm(form({ host }), { lookup, interfaces: lan })).toBe(why);
  });

  it('passes a name that does not resolve on, for the run to report', async () => {
    expect(await gateBenchForm(form({ host: 'nowhere.test' }), { lookup, interfaces: lan })).toMatchObject({ host: 'nowhere.test' });
  });

  it('needs no lookup for loopback', async () => {
    const failing: Lookup = () => Promise.reject(new Error('no lookup expected'));
    expect(await gateBenchForm(form({ loopback: true }), { lookup: failing, interfaces: lan })).toMatchObject({ loopback: true, host: '127.0.0.1' });
  });
});
