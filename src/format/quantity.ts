/** Counts as people read them in summaries: `1 datagram`, `2 datagrams`, `0 bytes`. */

/**
 * `n` and the noun, singular for exactly one. Every summary uses this, so that none says
 * `1 datagrams`.
 * @example quantity(1, 'datagram') // '1 datagram'
 * @example quantity(3, 'IPMsg packet') // '3 IPMsg packets'
 */
export function quantity(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : pluralNoun}`;
}
