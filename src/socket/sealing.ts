/**
 * The sealing pair for a shared secret, loaded on demand: node:crypto and the seal code are only
 * read when a key is given, so a plain `udpkit send` starts faster.
 */
import type { Opener } from '../protocol/opener.js';
import type { Sealer } from '../protocol/seal.js';

/** Seals what we send and opens what we receive under one key. */
export interface Sealing {
  readonly sealer: Sealer;
  readonly opener: Opener;
}

/**
 * Derives the key from `secret` (scrypt) and makes a sealer and an opener for it.
 * @throws `TypeError` coded `UDPKIT_INVALID_ARGUMENT` for an empty secret.
 */
export async function loadSealing(secret: string | Uint8Array): Promise<Sealing> {
  const [{ deriveKey }, { Sealer }, { Opener }] = await Promise.all([
    import('../protocol/seal-key.js'),
    import('../protocol/seal.js'),
    import('../protocol/opener.js'),
  ]);
  const key = deriveKey(secret);
  return { sealer: new Sealer(key), opener: new Opener(key) };
}

/** Makes any number of sealers and openers under one key (a relay seals each hop apart). */
export interface SealingKit {
  newSealer(): Sealer;
  newOpener(): Opener;
}

/**
 * Derives the key from `secret` once and returns a factory of sealers and openers for it.
 * @throws `TypeError` coded `UDPKIT_INVALID_ARGUMENT` for an empty secret.
 * @example const kit = await loadSealingKit(secret); const up = kit.newSealer();
 */
export async function loadSealingKit(secret: string | Uint8Array): Promise<SealingKit> {
  const [{ deriveKey }, { Sealer }, { Opener }] = await Promise.all([
    import('../protocol/seal-key.js'),
    import('../protocol/seal.js'),
    import('../protocol/opener.js'),
  ]);
  const key = deriveKey(secret);
  return { newSealer: () => new Sealer(key), newOpener: () => new Opener(key) };
}
