import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stopWordMatcher } from '../../src/cli/stop-word.js';

describe('stopWordMatcher', () => {
  const bye = stopWordMatcher('bye');

  it.each(['bye', 'BYE', 'Bye', ' Bye\n', '\tbye\r\n', '\x0b\x0cbye\x0d', 'bye\u00a0', '\u3000BYE'])(
    'matches %j',
    (payload) => {
      expect(bye(Buffer.from(payload))).toBe(true);
    },
  );

  it.each([
    ['punctuation', 'bye!'],
    ['a longer word', 'goodbye'],
    ['a space inside', 'by e'],
    ['nothing', ''],
    ['only whitespace', ' \r\n'],
    ['two stop words', 'bye bye'],
    ['a 10 KB payload', 'bye '.repeat(2560)],
  ])('does not match %s', (_what, payload) => {
    expect(bye(Buffer.from(payload))).toBe(false);
  });

  it('does not match bytes that are not UTF-8', () => {
    expect(bye(Buffer.from([0x62, 0x79, 0xff]))).toBe(false);
  });

  it('matches a word surrounded by a lot of whitespace', () => {
    expect(bye(Buffer.from(`${' '.repeat(5000)}bye${'\n'.repeat(5000)}`))).toBe(true);
  });

  it('trims and lower-cases the stop word itself', () => {
    expect(stopWordMatcher('  BYE ')(Buffer.from('bye'))).toBe(true);
  });

  it.each([
    ['再见', ' 再见\r\n', true],
    ['再见', '再见!', false],
    ['Ärger', 'äRGER\n', true],
    ['ΤΈΛΟΣ', 'τέλος', true],
    ['ΤΈΛΟΣ', 'τέλο', false],
  ])('with the non-ASCII word %j, %j matches: %s', (word, payload, matches) => {
    expect(stopWordMatcher(word)(Buffer.from(payload))).toBe(matches);
  });

  it('matches any word sent in upper case with whitespace around it', () => {
    const word = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 40 })
      .filter((s) => s.trim() === s && s.length > 0 && s.toUpperCase().toLowerCase() === s.toLowerCase());
    fc.assert(
      fc.property(word, (s) => {
        expect(stopWordMatcher(s)(Buffer.from(` ${s.toUpperCase()} \n`))).toBe(true);
      }),
    );
  });

  it('does not match a word with something glued in front', () => {
    const word = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s.length > 0);
    fc.assert(
      fc.property(word, (s) => {
        expect(stopWordMatcher(s)(Buffer.from(`x${s}`))).toBe(false);
      }),
    );
  });
});
