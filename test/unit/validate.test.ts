import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkPayloadSize,
  ipFamily,
  parseHex,
  parseHostPort,
  validateByteSize,
  validateHost,
  validateInteger,
  validatePort,
  validateSeconds,
} from '../../src/validate.js';
import { thrown } from '../helpers/thrown.js';

/** Checks that `fn` throws a coded error of the built-in `kind`, and returns it. */
function expectCoded(fn: () => unknown, code: string, kind: ErrorConstructor): Error {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(kind);
  expect((err as { code?: unknown }).code).toBe(code);
  return err as Error;
}

describe('validatePort', () => {
  it.each([
    [5000, 5000],
    ['5000', 5000],
    [1, 1],
    ['1', 1],
    [65535, 65535],
    ['65535', 65535],
    ['0080', 80],
    // Surrounding whitespace is trimmed, as Node's own validatePort does.
    [' 80 ', 80],
  ])('accepts %j as %i', (input, port) => {
    expect(validatePort(input)).toBe(port);
  });

  it.each([0, 65536, -1, 1.5, NaN, Infinity, '0', '65536', '-1', '1.5', '12a', '', '   ', '0x50', '1e3', '+80', '８０', null, undefined, true, [80]])(
    'refuses %j with a RangeError coded UDPKIT_INVALID_PORT',
    (input) => {
      const err = expectCoded(() => validatePort(input), 'UDPKIT_INVALID_PORT', RangeError);
      expect(err.name).toBe('UdpkitRangeError');
    },
  );

  it('allows 0 only with allowZero', () => {
    expect(validatePort(0, { allowZero: true })).toBe(0);
    expect(validatePort('0', { allowZero: true })).toBe(0);
    expect(validatePort(65535, { allowZero: true })).toBe(65535);
    expectCoded(() => validatePort(-1, { allowZero: true }), 'UDPKIT_INVALID_PORT', RangeError);
  });

  it('names the option, the range and the value in its message', () => {
    expect(expectCoded(() => validatePort('x', { name: '--port' }), 'UDPKIT_INVALID_PORT', RangeError).message).toBe(
      '--port must be an integer from 1 to 65535, got "x"',
    );
    expect(expectCoded(() => validatePort(70000, { allowZero: true }), 'UDPKIT_INVALID_PORT', RangeError).message).toBe(
      'port must be an integer from 0 to 65535, got "70000"',
    );
  });

  it('round-trips every port 1..65535 given as a decimal string', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 65535 }), (n) => validatePort(String(n)) === n));
  });
});

describe('ipFamily', () => {
  it.each([
    ['127.0.0.1', 4],
    ['0.0.0.0', 4],
    ['::', 6],
    ['::1', 6],
    ['fe80::1%eth0', 6],
    ['fe80::1%br-1a2b.100', 6],
    ['::ffff:192.0.2.1', 6],
    ['example.com', undefined],
    ['1.2.3', undefined],
    ['01.2.3.4', undefined],
    ['', undefined],
    // A scope belongs to IPv6 only, and is never empty.
    ['1.2.3.4%eth0', undefined],
    ['fe80::1%', undefined],
    ['%eth0', undefined],
  ])('%j is %s', (host, family) => {
    expect(ipFamily(host)).toBe(family);
  });
});

describe('validateHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['[fe80::1%eth0]', 'fe80::1%eth0'],
    ['localhost', 'localhost'],
    ['example.com', 'example.com'],
    ['Example.COM.', 'Example.COM.'],
    ['my_host.local', 'my_host.local'],
    ['  example.com  ', 'example.com'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('accepts %j as %j', (input, host) => {
    expect(validateHost(input)).toBe(host);
  });

  it.each([
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    'a..b',
    '.example.com',
    '-a.com',
    'a-.com',
    'exa mple.com',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}a`,
    ':::1',
    '::1::2',
    '[::1',
    '1.2.3.4%eth0',
    'fe80::1%',
    '',
    '   ',
  ])('refuses %j with a TypeError coded UDPKIT_INVALID_HOST', (input) => {
    const err = expectCoded(() => validateHost(input), 'UDPKIT_INVALID_HOST', TypeError);
    expect(err.name).toBe('UdpkitTypeError');
  });

  it.each([undefined, null, 127001, ['localhost']])('refuses the non-string %j', (input) => {
    expect(expectCoded(() => validateHost(input), 'UDPKIT_INVALID_HOST', TypeError).message).toBe(
      'a host is required (a name or an IP address)',
    );
  });

  it('quotes the refused value in its message', () => {
    expect(expectCoded(() => validateHost('1.2.3'), 'UDPKIT_INVALID_HOST', TypeError).message).toBe(
      'not a host name or IP address: "1.2.3"',
    );
  });
});

describe('parseHostPort', () => {
  it.each([
    ['example.com', 'example.com', 5000],
    ['example.com:9000', 'example.com', 9000],
    ['127.0.0.1:65535', '127.0.0.1', 65535],
    ['  host:9000  ', 'host', 9000],
    ['[::1]:9000', '::1', 9000],
    ['[::1]', '::1', 5000],
    ['::1', '::1', 5000],
    ['2001:db8::1', '2001:db8::1', 5000],
    ['fe80::1%eth0', 'fe80::1%eth0', 5000],
    ['[fe80::1%eth0]:9000', 'fe80::1%eth0', 9000],
  ])('parses %j as %s port %i', (input, host, port) => {
    expect(parseHostPort(input, 5000)).toEqual({ host, port });
  });

  it.each([
    ['host:0', 'UDPKIT_INVALID_PORT', RangeError],
    ['host:x', 'UDPKIT_INVALID_PORT', RangeError],
    ['host:', 'UDPKIT_INVALID_PORT', RangeError],
    ['host:65536', 'UDPKIT_INVALID_PORT', RangeError],
    ['[::1]:', 'UDPKIT_INVALID_PORT', RangeError],
    ['[::1]:x', 'UDPKIT_INVALID_PORT', RangeError],
    ['[::1]:9000:1', 'UDPKIT_INVALID_PORT', RangeError],
    [':9000', 'UDPKIT_INVALID_HOST', TypeError],
    ['1.2.3:80', 'UDPKIT_INVALID_HOST', TypeError],
    ['[1.2.3.4]:80', 'UDPKIT_INVALID_HOST', TypeError],
    ['[example.com]:80', 'UDPKIT_INVALID_HOST', TypeError],
    ['[::1]9000', 'UDPKIT_INVALID_HOST', TypeError],
    ['', 'UDPKIT_INVALID_HOST', TypeError],
    [undefined, 'UDPKIT_INVALID_HOST', TypeError],
  ] as const)('refuses %j with %s', (input, code, kind) => {
    expectCoded(() => parseHostPort(input, 5000), code, kind);
  });

  it('returns any IPv4 address and port given as ADDRESS:PORT', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        expect(parseHostPort(`${host}:${port}`, 5000)).toEqual({ host, port });
      }),
    );
  });

  it('returns any IPv6 address and port given as [ADDRESS]:PORT', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        expect(parseHostPort(`[${host}]:${port}`, 5000)).toEqual({ host, port });
      }),
    );
  });
});

describe('parseHex', () => {
  it.each([
    ['deadbeef', [0xde, 0xad, 0xbe, 0xef]],
    ['DEADBEEF', [0xde, 0xad, 0xbe, 0xef]],
    ['de ad be ef', [0xde, 0xad, 0xbe, 0xef]],
    ['de:ad:be:ef', [0xde, 0xad, 0xbe, 0xef]],
    ['de-ad-be-ef', [0xde, 0xad, 0xbe, 0xef]],
    ['de:ad be-ef', [0xde, 0xad, 0xbe, 0xef]],
    ['  de\tad\n', [0xde, 0xad]],
    ['0x00ff', [0x00, 0xff]],
    ['0X00 FF', [0x00, 0xff]],
    ['', []],
  ])('parses %j', (input, bytes) => {
    expect(parseHex(input)).toEqual(Buffer.from(bytes));
  });

  it.each(['abc', 'de ad b', 'f', 'zz', 'g0', 'de,ad', '0x0xde', '+de', '0xde 0xad'])(
    'refuses %j with a TypeError coded UDPKIT_INVALID_ARGUMENT',
    (input) => {
      expect(expectCoded(() => parseHex(input), 'UDPKIT_INVALID_ARGUMENT', TypeError).message).toBe(
        `not hex bytes (pairs of digits 0-9, a-f): ${JSON.stringify(input)}`,
      );
    },
  );

  it('shortens a long refused value in its message', () => {
    expect(expectCoded(() => parseHex('z'.repeat(100)), 'UDPKIT_INVALID_ARGUMENT', TypeError).message).toBe(
      `not hex bytes (pairs of digits 0-9, a-f): "${'z'.repeat(40)}..."`,
    );
  });

  it('reads back any bytes written as hex, plain or with separators', () => {
    const separator = fc.constantFrom('', ' ', ':', '-', ' : ');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), separator, fc.boolean(), (bytes, sep, upper) => {
        const buf = Buffer.from(bytes);
        expect(parseHex(buf.toString('hex'))).toEqual(buf);
        const pairs = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(sep);
        expect(parseHex(`0x${upper ? pairs.toUpperCase() : pairs}`)).toEqual(buf);
      }),
    );
  });

  it('throws nothing but its coded TypeError, whatever the string', () => {
    const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxX :-\t'.split('')), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), hexish), (input) => {
        let result: unknown;
        try {
          result = parseHex(input);
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
          expect((err as { code?: unknown }).code).toBe('UDPKIT_INVALID_ARGUMENT');
          return;
        }
        expect(Buffer.isBuffer(result)).toBe(true);
      }),
    );
  });
});

describe('validateInteger', () => {
  it.each([
    [3, { name: '--count', min: 1 }, 3],
    ['3', { name: '--count', min: 1 }, 3],
    [' 7 ', { name: '--count' }, 7],
    [0, { name: '--interval' }, 0],
    ['86400000', { name: '--interval', min: 0, max: 86_400_000 }, 86_400_000],
    [Number.MAX_SAFE_INTEGER, { name: 'n' }, Number.MAX_SAFE_INTEGER],
  ])('accepts %j with %j as %i', (input, opts, n) => {
    expect(validateInteger(input, opts)).toBe(n);
  });

  it.each([
    [0, { name: '--count', min: 1 }],
    ['0', { name: '--count', min: 1 }],
    [-1, { name: 'n' }],
    ['-1', { name: 'n' }],
    [1.5, { name: 'n' }],
    ['1.5', { name: 'n' }],
    ['abc', { name: 'n' }],
    ['', { name: 'n' }],
    [NaN, { name: 'n' }],
    [86_400_001, { name: '--interval', max: 86_400_000 }],
    [Number.MAX_SAFE_INTEGER + 1, { name: 'n' }],
    [undefined, { name: 'n' }],
  ])('refuses %j with %j as a RangeError coded UDPKIT_INVALID_ARGUMENT', (input, opts) => {
    expectCoded(() => validateInteger(input, opts), 'UDPKIT_INVALID_ARGUMENT', RangeError);
  });

  it('names the option, the range and the value in its message', () => {
    expect(expectCoded(() => validateInteger('0', { name: '--count', min: 1, max: 10 }), 'UDPKIT_INVALID_ARGUMENT', RangeError).message).toBe(
      '--count must be a whole number from 1 to 10, got "0"',
    );
  });
});

describe('validateSeconds', () => {
  it.each([
    ['1.5', 0, 1500],
    [' 2 ', 0, 2000],
    [2, 0, 2000],
    [0.25, 0, 250],
    ['0', 0, 0],
    ['0.001', 0.001, 1],
    ['0.0015', 0.001, 2],
    ['2147483', 0, 2_147_483_000],
  ])('reads %j (min %d) as %i ms', (input, min, ms) => {
    expect(validateSeconds(input, { name: '--timeout', min })).toBe(ms);
  });

  it.each([
    ['-1', 0],
    [-0.5, 0],
    ['1e3', 0],
    ['1.5s', 0],
    ['abc', 0],
    ['', 0],
    [NaN, 0],
    [Infinity, 0],
    ['2147484', 0],
    [2147483.5, 0],
    ['0.0004', 0.001],
    [0, 0.001],
  ])('refuses %j (min %d) as a RangeError coded UDPKIT_INVALID_ARGUMENT', (input, min) => {
    expectCoded(() => validateSeconds(input, { name: '--timeout', min }), 'UDPKIT_INVALID_ARGUMENT', RangeError);
  });

  it('names the option, the range and the value in its message', () => {
    expect(expectCoded(() => validateSeconds('soon', { name: '--wait-reply', min: 0.001 }), 'UDPKIT_INVALID_ARGUMENT', RangeError).message).toBe(
      '--wait-reply must be a number of seconds from 0.001 to 2147483, got "soon"',
    );
  });
});

describe('checkPayloadSize', () => {
  it.each([
    [0, 4],
    [65507, 4],
    [65508, 6],
    [65527, 6],
  ] as const)('lets %i bytes over IPv%i through', (size, family) => {
    expect(() => checkPayloadSize(size, family)).not.toThrow();
  });

  it.each([
    [65508, 4, 'message is 65508 bytes; one UDP datagram over IPv4 carries at most 65507'],
    [100000, 4, 'message is 100000 bytes; one UDP datagram over IPv4 carries at most 65507'],
    [65528, 6, 'message is 65528 bytes; one UDP datagram over IPv6 carries at most 65527'],
  ] as const)('refuses %i bytes over IPv%i, naming the limit', (size, family, message) => {
    expect(expectCoded(() => checkPayloadSize(size, family), 'UDPKIT_MESSAGE_TOO_LARGE', RangeError).message).toBe(message);
  });
});

describe('validateByteSize', () => {
  it.each([
    ['65536', 65_536],
    ['64K', 65_536],
    ['64KiB', 65_536],
    ['16M', 16 * 1024 ** 2],
    [' 32 mb ', 32 * 1024 ** 2],
    ['1g', 1024 ** 3],
    [100_000, 100_000],
  ] as const)('reads %j as %i bytes', (given, bytes) => {
    expect(validateByteSize(given, { name: '--max-buffered' })).toBe(bytes);
  });

  it.each(['', '1.5M', '-1', '64T', 'M', '16 M B'])('refuses %j, naming the flag', (given) => {
    expect(expectCoded(() => validateByteSize(given, { name: '--max-queue' }), 'UDPKIT_INVALID_ARGUMENT', RangeError).message).toMatch(/^--max-queue must be a size from 0 to \d+ bytes \(K, M, G for KiB, MiB, GiB\), got "/);
  });

  it('refuses sizes outside its bounds', () => {
    expect(expectCoded(() => validateByteSize('32K', { name: '--max-buffered', min: 65_536 }), 'UDPKIT_INVALID_ARGUMENT', RangeError).message).toBe(
      '--max-buffered must be a size from 65536 to 9007199254740991 bytes (K, M, G for KiB, MiB, GiB), got "32K"',
    );
  });
});
