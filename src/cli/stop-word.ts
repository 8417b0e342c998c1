/** Recognises the stop word in a datagram without decoding every payload. */

const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/**
 * Returns a test that is true when a payload, trimmed of surrounding whitespace, equals `word`
 * ignoring case. Payloads that cannot match are rejected by their length alone. With `from` and
 * `to`, only bytes [from, to) of `data` are the payload.
 * @example stopWordMatcher('bye')(Buffer.from(' BYE\n')) // true
 */
export function stopWordMatcher(word: string): (data: Buffer, from?: number, to?: number) => boolean {
  const wanted = word.trim().toLowerCase();
  const wantedBytes = Buffer.byteLength(wanted);
  // Case folding can change a character's UTF-8 length; allow generous slack before decoding.
  const maxCore = wantedBytes * 3 + 8;
  return (data, from = 0, to = data.length) => {
    let start = from;
    let end = to;
    while (start < end && isSpace(data[start] as number)) start++;
    while (end > start && isSpace(data[end - 1] as number)) end--;
    const core = end - start;
    if (core === 0 || core > maxCore) return wanted === '' && core === 0;
    return data.toString('utf8', start, end).trim().toLowerCase() === wanted;
  };
}
