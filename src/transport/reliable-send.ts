/**
 * `send --ack`: drives a ReliableSender over a connected Sender with the real clock and one
 * timer. Messages are pushed as the window allows; acknowledgements, retransmissions and the
 * ack timeout are the core's business (src/protocol/reliable-sender.ts).
 */
import { randomBytes } from 'node:crypto';
import { ReliableSender } from '../protocol/reliable-sender.js';
import type { Sender } from './sender-socket.js';

/** Options of {@link sendReliably}. */
export interface ReliableSendOptions {
  /** Messages in flight at most (default 64). */
  readonly window?: number;
  /** Give up when no new acknowledgement has come for this long (ms, default 10000). */
  readonly ackTimeoutMs?: number;
  /** Stops sending more; what is in flight is still waited for. */
  readonly signal?: AbortSignal;
}

/** What became of the messages. */
export interface ReliableSendResult {
  /** Messages handed to the session. */
  readonly sent: number;
  /** Acknowledged: the receiver accepted them for delivery. */
  readonly confirmed: number;
  readonly unconfirmed: number;
  /** Why the rest were given up, if any were (`aborted`: the signal stopped the wait). */
  readonly failure?: 'timeout' | 'refused' | 'aborted';
  readonly retransmissions: number;
}

/**
 * Sends every message of `batches` reliably through `sender` (which must not be used for
 * anything else meanwhile). Resolves when all are acknowledged or the session gave up.
 * @example
 * const sender = await openSender({ host: '127.0.0.1', port: 5000 });
 * const result = await sendReliably(sender, [[Buffer.from('hello')]]);
 * await sender.close();
 * if (result.unconfirmed > 0) console.error('not confirmed');
 */
export async function sendReliably(
  sender: Sender,
  batches: AsyncIterable<readonly Buffer[]> | Iterable<readonly Buffer[]>,
  options: ReliableSendOptions = {},
): Promise<ReliableSendResult> {
  const core = new ReliableSender({ sessionId: randomBytes(8), window: options.window ?? 64, ackTimeoutMs: options.ackTimeoutMs ?? 10_000 });
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let confirmed = 0;
  let failure: ReliableSendResult['failure'];

  const account = (): void => {
    for (const e of core.pollEvents()) {
      if (e.type === 'acked') confirmed++;
      else failure = e.reason;
    }
  };
  const pump = (): void => {
    // Once aborted nothing more is sent (the same abort may have closed the sender).
    if (options.signal?.aborted === true) return;
    for (const datagram of core.pollTransmit(Date.now())) sender.write(datagram);
    account();
    clearTimeout(timer);
    const due = core.nextDeadline();
    if (due !== undefined) timer = setTimeout(step, Math.max(0, due - Date.now()));
  };
  // Something changed (an ACK, a refusal, a deadline): let the core act, then the waiting loop.
  function step(): void {
    pump();
    const w = wake;
    wake = undefined;
    w?.();
  }
  const changed = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  const ended = (): boolean => core.state === 'done' || core.state === 'failed';

  sender.onMessage((d) => {
    if (core.handleDatagram(d.data, Date.now())) step();
  });
  const onRefused = (): void => {
    core.handleRefused();
    step();
  };
  sender.on('refused', onRefused);
  // An abort stops everything at once, waiting for acknowledgements too: what is not confirmed
  // by then is reported unconfirmed (a timer must not keep a stopping process alive).
  const signal = options.signal;
  const aborted = (): boolean => signal?.aborted === true;
  // Only wakes the waiting loop: the sender may already be closed by the same abort.
  const onAbort = (): void => {
    clearTimeout(timer);
    const w = wake;
    wake = undefined;
    w?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let pushed = 0;
  try {
    feed: for await (const batch of batches) {
      for (const message of batch) {
        while (!core.canPush()) {
          if (ended() || core.state !== 'open' || aborted()) break feed;
          pump();
          await changed();
        }
        if (aborted()) break feed;
        core.push(message);
        pushed++;
      }
      pump();
    }
    if (!aborted()) {
      core.finish();
      pump();
      while (!ended() && !aborted()) await changed();
    }
  } finally {
    clearTimeout(timer);
    sender.off('refused', onRefused);
    signal?.removeEventListener('abort', onAbort);
  }
  account();
  if (failure === undefined && aborted() && confirmed < pushed) failure = 'aborted';
  return {
    sent: pushed,
    confirmed,
    unconfirmed: pushed - confirmed,
    retransmissions: core.retransmissions,
    ...(failure !== undefined ? { failure } : {}),
  };
}
