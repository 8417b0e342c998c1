/**
 * The one close of a long-lived driver (listener, sender, relay, chat). A second `close()` while
 * the first is still running must wait for the same end, not return early with sockets still
 * open (a caller that awaits close and then exits would cut the goodbye or the last sends short);
 * one after it must not close twice. A failed close fails every caller alike.
 */

/** Runs a shutdown at most once and hands every caller its promise. */
export class CloseOnce {
  #done: Promise<void> | undefined;

  /**
   * Runs `shut` on the first call; every call, during or after it, returns that run's promise.
   * @example close(): Promise<void> { return this.#closer.run(async () => { await this.#socket.close(); }); }
   */
  run(shut: () => Promise<void>): Promise<void> {
    this.#done ??= shut();
    return this.#done;
  }
}
