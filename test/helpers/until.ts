/** Waiting for a condition that no event announces (a kernel queue emptying), bounded. */

/** Polls `condition` every 20 ms until it holds; rejects after `ms`, naming `what`. */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
