import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_LENGTH,
  FRAME_MAGIC,
  FRAME_VERSION,
  FrameType,
  hasFrameMagic,
  readFrameHeader,
  writeFrameHeader,
} from '../../src/protocol/frame-header.js';

describe('frame header', () => {
  it('is "UK", version 1, then the type', () => {
    const buf = Buffer.alloc(FRAME_HEADER_LENGTH);
    writeFrameHeader(buf, FrameType.SEALED);
    expect(buf.toString('hex')).toBe('554b0153');
    expect(buf.readUInt16BE(0)).toBe(FRAME_MAGIC);
    expect(buf.subarray(0, 2).toString()).toBe('UK');
    expect(readFrameHeader(buf)).toEqual({ version: FRAME_VERSION, type: 0x53 });
  });

  it('reads any version and type byte behind the magic', () => {
    expect(readFrameHeader(Buffer.from([0x55, 0x4b, 0xff, 0x00, 1, 2]))).toEqual({ version: 0xff, type: 0 });
  });

  it.each([[''], ['U'], ['UK'], ['UK\u0001'], ['bye'], ['uk\u0001S'], ['KU\u0001S']])('finds no frame in %j', (text) => {
    expect(readFrameHeader(Buffer.from(text, 'latin1'))).toBeUndefined();
  });

  it('tells udpkit magic apart from a whole header', () => {
    expect(hasFrameMagic(Buffer.from('UK'))).toBe(true);
    expect(hasFrameMagic(Buffer.from('UKxx'))).toBe(true);
    expect(hasFrameMagic(Buffer.from('U'))).toBe(false);
    expect(hasFrameMagic(Buffer.from('bye'))).toBe(false);
  });
});
