/**
 * The bench server's own test traffic (`--reverse`, `--bidir`): the client's pacing loop
 * (bench-traffic.ts) run over the server's bound socket toward one client, once that client has
 * returned its GO cookie (docs/protocol.md, "Bench frames"). It stops at the announced duration,
 * when the server closes, or when the client has been silent for {@link SILENT_STOP_MS}.
 */
import type { ReceiveBackend } from '../socket/backend.js';
import type { DatagramSpans } from './sender.js';
import { sendTraffic, type DataSink } from './bench-traffic.js';

/** Datagrams handed to the socket and not yet sent, before `writeNow` asks for a flush. */
const HIGH_WATER_MARK = 1024;
/** The server stops sending to a client it has not heard from for this long. */
export const SILENT_STOP_MS = 2000;

/** The server's socket toward one client, as a {@link DataSink}. */
class BackendSink implements DataSink {
  inFlight = 0;
  readonly #backend: ReceiveBackend;
  readonly #port: number;
  readonly #address: string;
  #idle: Array<() => void> = [];

  constructor(backend: ReceiveBackend, port: number, address: string) {
    this.#backend = backend;
    this.#port = port;
    this.#address = address;
  }

  writeNow(data: Buffer): boolean {
    this.inFlight++;
    this.#backend.send(data, this.#port, this.#address, () => {
      // Best effort, like every reply: a failed send is a datagram the client counts as lost.
      if (--this.inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
    });
    return this.inFlight < HIGH_WATER_MARK;
  }

  async writeSpans({ bytes, starts, ends, count }: DatagramSpans): Promise<void> {
    // Copies: the caller stamps the same buffer again as soon as this resolves.
    for (let k = 0; k < count; k++) this.writeNow(Buffer.from(bytes.subarray(starts[k], ends[k])));
    await this.flush();
  }

  flush(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }
}

/** One reverse session's traffic. */
export interface ServerTraffic {
  readonly backend: ReceiveBackend;
  readonly session: bigint;
  readonly port: number;
  readonly address: string;
  readonly length: number;
  readonly durationMs: number;
  readonly rate: number;
  readonly signal: AbortSignal;
  /** Whether the client was heard lately: the traffic stops when it was not. */
  readonly alive: () => boolean;
  /** Datagrams sent so far, and whether the traffic is over. */
  readonly progress: (sent: number, done: boolean) => void;
}

/**
 * Sends one session's traffic from the server's socket to its client; resolves with the count.
 * @example await serveTraffic({ backend, session, port, address, length: 64, durationMs: 1000, rate: 10_000, signal, alive, progress });
 */
export async function serveTraffic(t: ServerTraffic): Promise<number> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  t.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await sendTraffic({
      streams: [{ sender: new BackendSink(t.backend, t.port, t.address), session: t.session }],
      length: t.length,
      durationMs: t.durationMs,
      rate: t.rate,
      burst: 1,
      signal: stop.signal,
      tick: (_elapsed, sent) => {
        t.progress(sent[0] as number, false);
        if (!t.alive()) stop.abort();
      },
    });
    const sent = result.sent[0] as number;
    t.progress(sent, true);
    return sent;
  } finally {
    t.signal.removeEventListener('abort', onAbort);
  }
}
