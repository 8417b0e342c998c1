import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeFrameHeader, FrameType } from '../../src/protocol/frame-header.js';
import {
  MAX_SEQ,
  RELIABLE_ACK_LENGTH,
  decodeReliableFrame,
  encodeAck,
  encodeData,
  maxReliablePayload,
} from '../../src/protocol/reliable-frames.js';

const id = Buffer.from('0102030405060708', 'hex');

describe('reliable frames', () => {
  it('lays DATA out as documented', () => {
    const data = encodeData(id, 0x0a0b, Buffer.from('hi'));
    expect(data.toString('hex')).toBe('554b0144' + '0102030405060708' + '00000a0b' + '6869');
    expect(decodeReliableFrame(data)).toEqual({ kind: 'data', sessionId: id, seq: 0x0a0b, payload: Buffer.from('hi') });
  });

  it('lays ACK out as documented: bit i, most significant first, is cumulative + 1 + i', () => {
    const ack = encodeAck(id, 5, [6, 8, 69]);
    expect(ack.toString('hex')).toBe('554b0141' + '0102030405060708' + '00000005' + 'a000000000000001');
    expect(ack.length).toBe(RELIABLE_ACK_LENGTH);
    expect(decodeReliableFrame(ack)).toEqual({ kind: 'ack', sessionId: id, cumulative: 5, selective: [6, 8, 69] });
  });

  it('matches the examples in docs/protocol.md', () => {
    const doc = Buffer.from('a0a1a2a3a4a5a6a7', 'hex');
    expect(encodeData(doc, 258, Buffer.from('hi')).toString('hex')).toBe('554b0144a0a1a2a3a4a5a6a7000001026869');
    expect(encodeAck(doc, 5, [6, 8, 69]).toString('hex')).toBe('554b0141a0a1a2a3a4a5a6a700000005a000000000000001');
  });

  it('round-trips any DATA and ACK', () => {
    const sessionId = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(sessionId, fc.integer({ min: 0, max: MAX_SEQ }), fc.uint8Array({ maxLength: 300 }), (sid, seq, payload) => {
        expect(decodeReliableFrame(encodeData(sid, seq, payload))).toEqual({ kind: 'data', sessionId: sid, seq, payload: Buffer.from(payload) });
      }),
    );
    const offsets = fc.uniqueArray(fc.integer({ min: 1, max: 64 }), { maxLength: 64 });
    fc.assert(
      fc.property(sessionId, fc.integer({ min: 0, max: MAX_SEQ - 64 }), offsets, (sid, cumulative, offs) => {
        const selective = offs.map((o) => cumulative + o).sort((a, b) => a - b);
        expect(decodeReliableFrame(encodeAck(sid, cumulative, selective))).toEqual({ kind: 'ack', sessionId: sid, cumulative, selective });
      }),
    );
  });

  it('never throws on any bytes, with or without a valid header in front', () => {
    const header = fc.constantFrom(FrameType.DATA, FrameType.ACK, FrameType.SEALED).map((type) => {
      const buf = Buffer.alloc(4);
      writeFrameHeader(buf, type);
      return buf;
    });
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(header, fc.uint8Array({ maxLength: 40 })).map(([h, rest]) => new Uint8Array(Buffer.concat([h, rest]))),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const frame = decodeReliableFrame(b);
        if (frame !== undefined) expect(['data', 'ack']).toContain(frame.kind);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['plain text', Buffer.from('hello, world, hello')],
    ['a DATA header too short', Buffer.from('554b01440102030405060708000000', 'hex')],
    ['another version', Buffer.from('554b02440102030405060708000000006869', 'hex')],
    ['DATA seq 0xffffffff', Buffer.from('554b01440102030405060708ffffffff', 'hex')],
    ['an ACK of 23 bytes', encodeAck(id, 0, []).subarray(0, 23)],
    ['an ACK of 25 bytes', Buffer.concat([encodeAck(id, 0, []), Buffer.alloc(1)])],
    ['an ACK bit beyond the last seq', Buffer.from('554b01410102030405060708fffffff0' + '0002000000000000', 'hex')],
    ['a sealed frame', Buffer.from('554b0153' + '00'.repeat(48), 'hex')],
  ])('refuses %s', (_, bytes) => {
    expect(decodeReliableFrame(bytes)).toBeUndefined();
  });

  it('takes the last ACK bit that still names a seq', () => {
    expect(decodeReliableFrame(Buffer.from('554b01410102030405060708fffffff0' + '0004000000000000', 'hex'))).toMatchObject({
      selective: [MAX_SEQ],
    });
  });

  it('refuses to encode what the layout cannot carry', () => {
    expect(() => encodeData(id, MAX_SEQ + 1, Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(() => encodeAck(id, 3, [3])).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(() => encodeAck(id, 3, [68])).toThrow(RangeError);
    expect(() => encodeData(Buffer.alloc(7), 0, Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(maxReliablePayload(4)).toBe(65491);
  });
});
