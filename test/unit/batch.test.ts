import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datagramToJson, jsonLine, formatJsonLine, formatTextLine, textLine } from '../../src/format/datagram.js';
import { SEAL_OVERHEAD } from '../../src/protocol/seal.js';
import { BatchBuilder, SingleBatch, datagramAt } from '../../src/socket/batch.js';
import { maxMessageSize } from '../../src/transport/sender.js';
import { MAX_UDP_PAYLOAD_IPV4 } from '../../src/validate.js';

describe('SingleBatch', () => {
  it('shows an IPv4-mapped sender as IPv4 and keeps the raw address for replies', () => {
    const b = new SingleBatch().set(Buffer.from('hi'), '::ffff:127.0.0.1', 4000, 'IPv6');
    expect(b.count).toBe(1);
    expect(b.addresses[0]).toBe('127.0.0.1');
    expect(b.families[0]).toBe('IPv4');
    expect(b.replyAddresses[0]).toBe('::ffff:127.0.0.1');
    b.set(Buffer.from('v6'), '::1', 4001, 'IPv6');
    expect([b.addresses[0], b.families[0], b.ports[0], b.lengths[0]]).toEqual(['::1', 'IPv6', 4001, 2]);
  });

  it('datagramAt copies the payload, so reusing the batch does not change a kept datagram', () => {
    const b = new SingleBatch();
    const first = datagramAt(b.set(Buffer.from('first'), '127.0.0.1', 1, 'IPv4'), 0);
    b.set(Buffer.from('other'), '127.0.0.2', 2, 'IPv4');
    expect(first.text).toBe('first');
    expect(first.from).toEqual({ address: '127.0.0.1', port: 1, family: 'IPv4' });
  });
});

describe('BatchBuilder', () => {
  it('rebuilds a batch from chosen datagrams with their senders', () => {
    const src = new SingleBatch().set(Buffer.from('abc'), '10.0.0.1', 7, 'IPv4');
    const out = new BatchBuilder();
    out.add(Buffer.from('x'), src, 0);
    out.add(Buffer.from('yz'), src, 0);
    const b = out.build(1234);
    expect(b.count).toBe(2);
    expect(b.data.toString()).toBe('xyz');
    expect([...b.starts]).toEqual([0, 1]);
    expect([...b.lengths]).toEqual([1, 2]);
    expect(b.addresses).toEqual(['10.0.0.1']);
    expect([...b.senders]).toEqual([0, 0]);
    expect(b.receivedAt).toBe(1234);
  });
});

describe('range formatters agree with the per-datagram ones', () => {
  it('jsonLine is byte for byte JSON.stringify(datagramToJson(d)), for any payload inside any buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 5 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 4e12 }), (payload, pad, port, ms) => {
        const whole = Buffer.concat([Buffer.from(pad), Buffer.from(payload), Buffer.from(pad)]);
        const b = new SingleBatch().set(Buffer.from(payload), '::1', port, 'IPv6');
        b.receivedAt = ms;
        const d = datagramAt(b, 0);
        const expected = JSON.stringify(datagramToJson(d));
        expect(formatJsonLine(d)).toBe(expected);
        expect(jsonLine(whole, pad.length, pad.length + payload.length, '::1', port, 'IPv6', ms)).toBe(expected);
        expect(textLine(whole, pad.length, pad.length + payload.length, port, '::1')).toBe(formatTextLine(d));
      }),
    );
  });
});

describe('constants kept in step', () => {
  it('the sender\'s largest sealed message leaves room for the seal format\'s overhead', () => {
    expect(maxMessageSize(4, true)).toBe(MAX_UDP_PAYLOAD_IPV4 - SEAL_OVERHEAD);
    expect(MAX_UDP_PAYLOAD_IPV4 - SEAL_OVERHEAD).toBe(65451);
  });
});

describe('batch formatters write exactly what the per-datagram formatters write', () => {
  const payloads = fc.array(
    fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.string({ maxLength: 100 }).map((s) => new Uint8Array(Buffer.from(s))),
      fc.stringMatching(/^[ -~]{0,120}$/).map((s) => new Uint8Array(Buffer.from(s))),
    ),
    { minLength: 1, maxLength: 12 },
  );
  it('TextBatchFormatter and JsonBatchFormatter, for any payloads, senders and ranges', async () => {
    const { TextBatchFormatter } = await import('../../src/format/text-batch.js');
    const { JsonBatchFormatter } = await import('../../src/format/json-batch.js');
    const text = new TextBatchFormatter();
    const json = new JsonBatchFormatter();
    fc.assert(
      fc.property(payloads, fc.array(fc.constantFrom('127.0.0.1', '::1', 'fe80::1%eth0'), { minLength: 12, maxLength: 12 }), fc.nat(), (ps, addrs, seed) => {
        const out = new BatchBuilder();
        ps.forEach((p, i) => {
          const src = new SingleBatch().set(Buffer.from([0]), addrs[i]!, 1000 + (i % 3), addrs[i]!.includes(':') ? 'IPv6' : 'IPv4');
          out.add(Buffer.from(p), src, 0);
        });
        const b = out.build(1_700_000_000_000 + (seed % 5));
        const from = seed % b.count;
        let expectedText = '';
        let expectedJson = '';
        for (let i = from; i < b.count; i++) {
          const start = b.starts[i]!;
          const end = start + b.lengths[i]!;
          const s = b.senders[i]!;
          expectedText += textLine(b.data, start, end, b.ports[i]!, b.addresses[s]!) + '\n';
          expectedJson += jsonLine(b.data, start, end, b.addresses[s]!, b.ports[i]!, b.families[s]!, b.receivedAt) + '\n';
        }
        expect(text.format(b, from, b.count).toString()).toBe(expectedText);
        expect(json.format(b, from, b.count).toString()).toBe(expectedJson);
      }),
      { numRuns: 300 },
    );
  });
});
