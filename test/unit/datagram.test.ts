import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datagramToJson, formatHexDump, formatJsonLine, formatTextLine } from '../../src/format/datagram.js';
import type { Datagram, Endpoint } from '../../src/types.js';

const RECEIVED_AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const LOOPBACK: Endpoint = { address: '127.0.0.1', port: 40000, family: 'IPv4' };

/** A datagram as the receiver makes it: `text` only when the payload is valid UTF-8. */
function datagram(data: Buffer, from: Endpoint = LOOPBACK): Datagram {
  return isUtf8(data) ? { data, text: data.toString('utf8'), from, receivedAt: RECEIVED_AT } : { data, from, receivedAt: RECEIVED_AT };
}

describe('formatTextLine', () => {
  it('prints the textbook line', () => {
    expect(formatTextLine(datagram(Buffer.from('hello')))).toBe('received message: hello from PORT 40000 on 127.0.0.1');
  });

  it('shows an IPv6 sender without brackets, as the textbook does', () => {
    const from: Endpoint = { address: '::1', port: 5000, family: 'IPv6' };
    expect(formatTextLine(datagram(Buffer.from('hi'), from))).toBe('received message: hi from PORT 5000 on ::1');
  });

  it('keeps a hostile payload on one line', () => {
    const data = Buffer.concat([Buffer.from('hi\nthere\x1b[31m'), Buffer.from([0xff])]);
    expect(formatTextLine(datagram(data))).toBe('received message: hi\\nthere\\x1b[31m\\xff from PORT 40000 on 127.0.0.1');
  });
});

describe('datagramToJson', () => {
  it('gives the text of a UTF-8 payload, its size in bytes, the sender and an ISO time', () => {
    expect(datagramToJson(datagram(Buffer.from('héllo')))).toEqual({
      time: '2024-01-02T03:04:05.678Z',
      from: { address: '127.0.0.1', port: 40000, family: 'IPv4' },
      size: 6,
      text: 'héllo',
    });
  });

  it('gives hex and no text for a payload that is not UTF-8', () => {
    const json = datagramToJson(datagram(Buffer.from([0xff, 0x00, 0xfe])));
    expect(json).toEqual({
      time: '2024-01-02T03:04:05.678Z',
      from: { address: '127.0.0.1', port: 40000, family: 'IPv4' },
      size: 3,
      hex: 'ff00fe',
    });
    expect('text' in json).toBe(false);
  });

  it('gives an empty text for an empty payload', () => {
    expect(datagramToJson(datagram(Buffer.alloc(0)))).toMatchObject({ size: 0, text: '' });
  });
});

describe('formatJsonLine', () => {
  it('prints one compact JSON object', () => {
    expect(formatJsonLine(datagram(Buffer.from('a\nb')))).toBe(
      '{"time":"2024-01-02T03:04:05.678Z","from":{"address":"127.0.0.1","port":40000,"family":"IPv4"},"size":3,"text":"a\\nb"}',
    );
  });

  it('is one parseable line that gives back the payload, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const data = Buffer.from(bytes);
        const line = formatJsonLine(datagram(data));
        expect(line).not.toMatch(/[\n\r]/);
        const parsed = JSON.parse(line) as { size: number; text?: string; hex?: string };
        expect(parsed.size).toBe(data.length);
        const back = parsed.text === undefined ? Buffer.from(parsed.hex ?? '', 'hex') : Buffer.from(parsed.text, 'utf8');
        expect(back.equals(data)).toBe(true);
      }),
    );
  });
});

describe('formatHexDump', () => {
  it('pads a short payload to the full row width', () => {
    // 16 columns of 3 characters plus the gap after the 8th: "6f" is followed by 36 spaces.
    expect(formatHexDump(Buffer.from('hello'))).toBe(`  0000  68 65 6c 6c 6f${' '.repeat(36)}|hello|`);
  });

  it('fills a full row and starts the next at offset 0010, dots for unprintable bytes', () => {
    const data = Buffer.concat([Buffer.from('ABCDEFGHIJKLMNOP'), Buffer.from([0x7f])]);
    expect(formatHexDump(data)).toBe(
      '  0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|\n' +
        `  0010  7f${' '.repeat(48)}|.|`,
    );
  });

  it('shows control and high bytes as dots', () => {
    expect(formatHexDump(Buffer.from([0x00, 0x1f, 0x20, 0x7e, 0x80, 0xff]))).toBe(`  0000  00 1f 20 7e 80 ff${' '.repeat(33)}|.. ~..|`);
  });

  it('prints nothing for an empty payload', () => {
    expect(formatHexDump(Buffer.alloc(0))).toBe('');
  });
});
