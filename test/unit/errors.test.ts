import { describe, expect, it } from 'vitest';
import {
  UdpkitError,
  UdpkitRangeError,
  UdpkitTypeError,
  describeErrno,
  errnoOf,
  formatHostPort,
  isUdpkitError,
  isUsageError,
} from '../../src/errors.js';

/** An error as another copy of udpkit would make it: same code, different class. */
const foreign = (code: unknown): Error => Object.assign(new Error('from another copy'), { code });

describe('isUdpkitError', () => {
  it.each([
    ['a UdpkitError', new UdpkitError('UDPKIT_BIND_FAILED', 'x'), true],
    ['a UdpkitRangeError', new UdpkitRangeError('UDPKIT_INVALID_PORT', 'x'), true],
    ['a UdpkitTypeError', new UdpkitTypeError('UDPKIT_INVALID_HOST', 'x'), true],
    ['an Error from another copy', foreign('UDPKIT_SEND_FAILED'), true],
    ['an OS error', foreign('EADDRINUSE'), false],
    ['an Error without a code', new Error('x'), false],
    ['an Error with a numeric code', foreign(1), false],
    ['a plain object with a udpkit code', { code: 'UDPKIT_SEND_FAILED', message: 'x' }, false],
    ['the code alone', 'UDPKIT_SEND_FAILED', false],
    ['null', null, false],
    ['undefined', undefined, false],
  ])('%s: %s', (_what, err, expected) => {
    expect(isUdpkitError(err)).toBe(expected);
  });
});

describe('isUsageError', () => {
  it.each(['UDPKIT_INVALID_PORT', 'UDPKIT_INVALID_HOST', 'UDPKIT_INVALID_ARGUMENT', 'UDPKIT_MESSAGE_TOO_LARGE'])(
    'is true for %s, judged by code alone',
    (code) => {
      expect(isUsageError(foreign(code))).toBe(true);
    },
  );

  it.each(['UDPKIT_BIND_FAILED', 'UDPKIT_SEND_FAILED', 'UDPKIT_RESOLVE_FAILED', 'UDPKIT_NO_INTERFACE', 'UDPKIT_IO_FAILED', 'UDPKIT_CLOSED', 'EINVAL'])(
    'is false for %s',
    (code) => {
      expect(isUsageError(foreign(code))).toBe(false);
    },
  );

  it('is false for what is not an error', () => {
    expect(isUsageError({ code: 'UDPKIT_INVALID_PORT' })).toBe(false);
    expect(isUsageError(undefined)).toBe(false);
  });
});

describe('error classes', () => {
  it('UdpkitError keeps its code and where it happened, and nothing it was not given', () => {
    const cause = foreign('EADDRINUSE');
    const err = new UdpkitError('UDPKIT_BIND_FAILED', 'cannot listen', {
      syscall: 'bind',
      address: '0.0.0.0',
      port: 5000,
      errno: 'EADDRINUSE',
      cause,
    });
    expect(err).toBeInstanceOf(Error);
    expect({ ...err, name: err.name, message: err.message, cause: err.cause }).toEqual({
      name: 'UdpkitError',
      message: 'cannot listen',
      code: 'UDPKIT_BIND_FAILED',
      syscall: 'bind',
      address: '0.0.0.0',
      port: 5000,
      errno: 'EADDRINUSE',
      cause,
    });
    const bare = new UdpkitError('UDPKIT_CLOSED', 'closed');
    expect(['syscall', 'address', 'port', 'errno', 'cause'].filter((key) => key in bare)).toEqual([]);
  });

  it('argument errors are the built-in RangeError and TypeError', () => {
    const range = new UdpkitRangeError('UDPKIT_INVALID_PORT', 'bad port');
    const type = new UdpkitTypeError('UDPKIT_INVALID_HOST', 'bad host');
    expect(range).toBeInstanceOf(RangeError);
    expect(type).toBeInstanceOf(TypeError);
    expect([range.name, range.code, range.message]).toEqual(['UdpkitRangeError', 'UDPKIT_INVALID_PORT', 'bad port']);
    expect([type.name, type.code, type.message]).toEqual(['UdpkitTypeError', 'UDPKIT_INVALID_HOST', 'bad host']);
  });
});

describe('describeErrno', () => {
  it.each([
    ['EADDRINUSE', 'already in use'],
    ['EACCES', 'permission denied'],
    ['EADDRNOTAVAIL', 'address not available on this machine'],
    ['ENOTFOUND', 'not found'],
    ['ENOENT', 'no such file or directory'],
    ['EMSGSIZE', 'message too long'],
    ['ESOMETHINGNEW', 'esomethingnew'],
    // Names that an object inherits are not error texts.
    ['constructor', 'constructor'],
    ['toString', 'tostring'],
    [undefined, 'failed'],
  ])('describes %s as %j', (errno, text) => {
    expect(describeErrno(errno)).toBe(text);
  });
});

describe('errnoOf', () => {
  it.each([
    [foreign('EADDRINUSE'), 'EADDRINUSE'],
    [{ code: 'ENOENT' }, 'ENOENT'],
    [foreign(13), undefined],
    [new Error('x'), undefined],
    [null, undefined],
    [undefined, undefined],
    ['EINVAL', undefined],
  ])('reads the OS code of %j', (err, errno) => {
    expect(errnoOf(err)).toBe(errno);
  });
});

describe('formatHostPort', () => {
  it.each([
    ['127.0.0.1', 5000, '127.0.0.1:5000'],
    ['example.com', 53, 'example.com:53'],
    ['::1', 5000, '[::1]:5000'],
    ['::', 0, '[::]:0'],
    ['fe80::1%eth0', 9000, '[fe80::1%eth0]:9000'],
  ])('writes %s and %i as %s', (address, port, text) => {
    expect(formatHostPort(address, port)).toBe(text);
  });
});
