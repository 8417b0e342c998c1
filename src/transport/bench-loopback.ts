/**
 * A whole bench test inside one process: a server on 127.0.0.1 on a worker thread (so sending
 * and receiving each have a core, as with two processes), and the client on this thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BenchReport } from '../protocol/bench-report.js';
import { benchClient, type BenchClientOptions } from './bench-client.js';
import { benchServer } from './bench-server.js';

/** Options of {@link benchLoopback}: the client's, less where to find the server. */
export type BenchLoopbackOptions = Omit<BenchClientOptions, 'host' | 'port' | 'family' | 'lookup'>;

interface LocalServer {
  readonly port: number;
  close(): Promise<void>;
}

/** How long a worker may take to close before it is stopped. */
const CLOSE_GRACE_MS = 1000;

function onWorker(url: URL): Promise<LocalServer> {
  const worker = new Worker(url);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    void exited.then(() => reject(new Error('the bench server thread exited before it was bound')));
    worker.once('message', (m: { port: number }) => {
      worker.off('error', reject);
      // A server thread that dies leaves the client without answers: it reports that itself.
      worker.on('error', () => undefined);
      resolve({
        port: m.port,
        async close() {
          worker.postMessage('close');
          const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
          await exited;
          clearTimeout(timer);
        },
      });
    });
  });
}

async function onThisThread(): Promise<LocalServer> {
  const server = await benchServer({ address: '127.0.0.1', port: 0 });
  return { port: server.address().port, close: () => server.close() };
}

/**
 * Starts a bench server on 127.0.0.1 (port 0), runs the client against it and stops the server.
 * The server runs on a worker thread; run from uncompiled sources (no worker script next to this
 * module), it shares this thread, which caps what `rate: 0` can show.
 * @example
 * const report = await benchLoopback({ durationMs: 1000, rate: 0 });
 * console.log(report.receivedPerSecond, report.lossPercent);
 */
export async function benchLoopback(options: BenchLoopbackOptions = {}): Promise<BenchReport> {
  // '../transport/' rather than './': the same file from dist/transport/ and from the bundled
  // CLI in dist/app/.
  const url = new URL('../transport/bench-loopback-worker.js', import.meta.url);
  const server = existsSync(fileURLToPath(url)) ? await onWorker(url) : await onThisThread();
  try {
    return await benchClient({ ...options, host: '127.0.0.1', port: server.port });
  } finally {
    await server.close();
  }
}
