/**
 * `udpkit listen --tcp`: the same receiver over TCP. Each line of each connection is one
 * message; a line cut by the peer closing mid-line is shown all the same (it is what arrived),
 * followed by a note on stderr. Connections, unfinished lines and idle time are bounded; what
 * the bounds refuse, cut or close is counted in the summary. See docs/protocol.md ("TCP mode").
 */
import { formatHostPort, UsageError } from '../../errors.js';
import { formatSize, formatTcpSummary, tcpJsonLine, writeTcpTextLine } from '../../format/tcp.js';
import { parseCidrList } from '../../net/address-filter.js';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_BUFFERED, DEFAULT_MAX_CONNECTIONS, listenTcp, type TcpMessage, type TcpRefusal } from '../../transport/tcp-listener.js';
import { ipFamily, validateByteSize, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { logWriteFailure, openLog } from '../datagram-sink.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { LineWriter } from '../line-writer.js';
import type { Opts } from '../main.js';
import { stopWordMatcher } from '../stop-word.js';

/** The flags that only `--tcp` reads (a UDP listener is sent here to refuse them). */
const TCP_ONLY = { maxConnections: '--max-connections', maxBuffered: '--max-buffered', idleTimeout: '--idle-timeout' } as const;

function describeBound(a: { address: string; port: number }): string {
  if (a.address === '::') return `*:${a.port}/tcp (IPv4 and IPv6)`;
  return `${formatHostPort(a.address, a.port)}/tcp`;
}

/** Characters of output waiting to be written past which connections are no longer read (see `limitBacklog`). */
const OUTPUT_BACKLOG = 4 * 1024 * 1024;

/** Runs `udpkit listen --tcp`. */
export async function run(_args: readonly string[], opts: Opts, io: CliIo): Promise<number> {
  for (const [name, flag] of Object.entries(TCP_ONLY)) {
    if (opts[name] !== undefined && opts['tcp'] !== true) throw new UsageError(`${flag} goes with --tcp`);
  }
  const bind = (opts['bind'] as string | undefined)?.replace(/^\[|\]$/g, '');
  if (bind !== undefined && ipFamily(bind) === undefined) throw new UsageError(`--bind takes an IP address of this machine, got ${JSON.stringify(opts['bind'])}`);
  if (opts['hex'] === true || opts['echo'] === true) throw new UsageError(`--${opts['hex'] === true ? 'hex' : 'echo'} does not apply to --tcp`);
  const port = validatePort(opts['port'], { allowZero: true, name: '--port' });
  const stopWord = typeof opts['stopWord'] === 'string' ? opts['stopWord'] : undefined;
  const count = opts['count'] === undefined ? undefined : validateInteger(opts['count'], { name: '--count', min: 1 });
  const timeoutMs = opts['timeout'] === undefined ? undefined : validateSeconds(opts['timeout'], { name: '--timeout', min: 0.001 });
  const maxConnections = opts['maxConnections'] === undefined ? undefined : validateInteger(opts['maxConnections'], { name: '--max-connections', min: 1, max: 1_000_000 });
  const maxBufferedBytes = opts['maxBuffered'] === undefined ? undefined : validateByteSize(opts['maxBuffered'], { name: '--max-buffered', min: 65_536 });
  const idleTimeoutMs = opts['idleTimeout'] === undefined ? undefined : validateSeconds(opts['idleTimeout'], { name: '--idle-timeout' });
  const json = opts['json'] === true;
  const allow = opts['allow'] === undefined ? undefined : parseCidrList(opts['allow'] as string[]);
  const key = await keyFrom(opts, io.env);
  const log = opts['log'] === undefined ? undefined : openLog(opts['log'] as string);
  const listener = await listenTcp({
    port,
    ...(bind !== undefined ? { address: bind } : {}),
    ...(allow !== undefined ? { allow } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(maxBufferedBytes !== undefined ? { maxBufferedBytes } : {}),
    ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
  }).catch((err: unknown) => {
    log?.stream.destroy();
    throw err;
  });
  const flow = { onBlock: () => listener.pause(), onDrain: () => listener.resume() };
  const out = new LineWriter(io.stdout, flow);
  let logFailure: string | undefined;
  const onLogError = (err: Error): void => {
    logFailure ??= logWriteFailure(log!.path, err);
    finish(EXIT_FAILURE);
  };
  const logOut = log ? new LineWriter(log.stream, { ...flow, onError: onLogError }) : undefined;
  // Many connections can complete or cut long lines in one turn, before the writer learns
  // whether the stream keeps up: past a backlog, stop reading until it has been written.
  let holding = false;
  const limitBacklog = (): void => {
    if (holding || Math.max(out.pendingLength, logOut?.pendingLength ?? 0) < OUTPUT_BACKLOG) return;
    holding = true;
    listener.pause();
    setImmediate(() => {
      holding = false;
      if (!out.blocked && logOut?.blocked !== true) listener.resume();
    });
  };
  const isStop = stopWord === undefined ? undefined : stopWordMatcher(stopWord);
  const stopHint = stopWord === undefined ? '' : `; stops on "${stopWord}"`;
  const keyHint = key === undefined ? '' : '; sealed frames only (--key)';
  io.stderr.write(`listening on ${describeBound(listener.address())}${stopHint}${keyHint}\n`);

  let received = 0;
  let receivedBytes = 0;
  const afterStop = { messages: 0, bytes: 0 };
  let lastAt = Date.now();
  let ended = false;
  let failure: string | undefined;
  let resolveFinished!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (resolveFinished = resolve));
  const finish = (code: number): void => {
    ended = true;
    resolveFinished(code);
  };

  const maxBuffered = formatSize(maxBufferedBytes ?? DEFAULT_MAX_BUFFERED);
  const idleSeconds = (idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 1000;
  listener.on('message', (m: TcpMessage) => {
    if (ended) {
      afterStop.messages++;
      afterStop.bytes += m.data.length;
      return;
    }
    received++;
    receivedBytes += m.data.length;
    lastAt = m.receivedAt;
    const from = formatHostPort(m.address, m.port);
    const asJson = json || logOut ? tcpJsonLine(m) : undefined;
    if (json) out.chunk(asJson!);
    else writeTcpTextLine(out, m);
    logOut?.chunk(asJson!);
    if (m.cutBy === 'line-limit') io.stderr.write(`note: a line from ${from} was longer than 1 MiB; shown cut\n`);
    if (m.cutBy === 'buffer-limit') io.stderr.write(`note: a line from ${from} was cut at ${m.data.length} bytes: unfinished lines may hold ${maxBuffered} in all (--max-buffered); shown cut\n`);
    if (m.endedBy === 'peer') io.stderr.write(`note: ${from} closed the connection mid-line; shown what arrived\n`);
    if (m.endedBy === 'idle') io.stderr.write(`note: ${from} sent nothing for ${idleSeconds} s mid-line (--idle-timeout); closed it and shown what arrived\n`);
    if ((isStop && isStop(m.data)) || (count !== undefined && received >= count)) finish(EXIT_OK);
    limitBacklog();
  });
  const once = new Set<string>();
  const noteOnce = (what: string, text: string): void => {
    if (once.has(what)) return;
    once.add(what);
    io.stderr.write(`note: ${text}\n`);
  };
  listener.on('refused', (r: { reason: TcpRefusal }) => {
    if (r.reason === 'max-connections') noteOnce(r.reason, `${maxConnections ?? DEFAULT_MAX_CONNECTIONS} connections open (--max-connections); closing new ones at once, counted in the summary`);
  });
  listener.on('idle', () => noteOnce('idle', `closing connections silent for ${idleSeconds} s (--idle-timeout), counted in the summary`));
  listener.on('error', (err: Error) => {
    failure = `listening on port ${listener.address().port}/tcp failed: ${err.message}`;
    finish(EXIT_FAILURE);
  });

  let idle: NodeJS.Timeout | undefined;
  if (timeoutMs !== undefined) {
    const check = (): void => {
      const quiet = Date.now() - lastAt;
      if (quiet < timeoutMs) {
        idle = setTimeout(check, timeoutMs - quiet);
        return;
      }
      if (count !== undefined && received < count) {
        failure = `no message for ${timeoutMs / 1000} s; received ${received} of ${count}`;
        finish(EXIT_FAILURE);
      } else finish(EXIT_OK);
    };
    idle = setTimeout(check, timeoutMs);
  }
  const onAbort = (): void => finish(EXIT_OK);
  io.signal.addEventListener('abort', onAbort, { once: true });

  const code = await finished;
  clearTimeout(idle);
  io.signal.removeEventListener('abort', onAbort);
  await listener.close();
  await Promise.all([out.end(), logOut?.end()]);
  if (log) {
    await new Promise<void>((resolve) => log.stream.end(resolve));
    const { closeSync } = await import('node:fs');
    closeSync(log.fd);
  }
  io.stderr.write(formatTcpSummary(received, receivedBytes, listener.stats, afterStop, allow !== undefined || key !== undefined) + '\n');
  if (failure !== undefined) io.stderr.write(`udpkit: ${failure}\n`);
  if (logFailure !== undefined) io.stderr.write(`udpkit: ${logFailure}\n`);
  return logFailure !== undefined ? EXIT_FAILURE : code;
}
