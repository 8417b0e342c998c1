/**
 * `udpkit listen --tcp`: the same receiver over TCP. Each line of each connection is one
 * message; a line cut by the peer closing mid-line is shown all the same (it is what arrived),
 * followed by a note on stderr. Connections, unfinished lines and idle time are bounded; what
 * the bounds refuse, cut or close is counted in the summary. See docs/protocol.md ("TCP mode").
 */
import { formatHostPort, UsageError } from '../../errors.js';
import { formatSize, formatTcpSummary, tcpJsonLine, writeTcpTextLine } from '../../format/tcp.js';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_BUFFERED, DEFAULT_MAX_CONNECTIONS, listenTcp, type TcpMessage, type TcpRefusal } from '../../transport/tcp-listener.js';
import { validateByteSize, validateInteger, validateSeconds } from '../../validate.js';
import { logWriteFailure, openLog } from '../datagram-sink.js';
import { EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { LineWriter } from '../line-writer.js';
import { parseCommon } from '../listen-flags.js';
import { ListenRun } from '../listen-run.js';
import { stopWordMatcher } from '../stop-word.js';
import type { ListenOptions } from './listen.options.js';

function describeBound(a: { address: string; port: number }): string {
  if (a.address === '::') return `*:${a.port}/tcp (IPv4 and IPv6)`;
  return `${formatHostPort(a.address, a.port)}/tcp`;
}

/** Characters of output waiting to be written past which connections are no longer read (see `limitBacklog`). */
const OUTPUT_BACKLOG = 4 * 1024 * 1024;

/** Runs `udpkit listen --tcp`; listen.options.ts's rules have refused the flags only UDP reads. */
export async function run(_args: readonly string[], opts: ListenOptions, io: CliIo): Promise<number> {
  const { port, bind, stopWord, count, timeoutMs, allow, log: logPath } = parseCommon(opts);
  const maxConnections = opts.maxConnections === undefined ? undefined : validateInteger(opts.maxConnections, { name: '--max-connections', min: 1, max: 1_000_000 });
  const maxBufferedBytes = opts.maxBuffered === undefined ? undefined : validateByteSize(opts.maxBuffered, { name: '--max-buffered', min: 65_536 });
  const idleTimeoutMs = opts.idleTimeout === undefined ? undefined : validateSeconds(opts.idleTimeout, { name: '--idle-timeout' });
  const json = opts.json === true;
  const key = await keyFrom(opts, io.env);
  const log = logPath === undefined ? undefined : openLog(logPath);
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
  const onLogError = (err: Error): void => r.failLog(logWriteFailure(log!.path, err));
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
  const r = new ListenRun(io, { count, timeoutMs, noun: 'message' });
  const afterStop = { messages: 0, bytes: 0 };

  const maxBuffered = formatSize(maxBufferedBytes ?? DEFAULT_MAX_BUFFERED);
  const idleSeconds = (idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 1000;
  listener.on('message', (m: TcpMessage) => {
    if (r.ended) {
      afterStop.messages++;
      afterStop.bytes += m.data.length;
      return;
    }
    r.shown++;
    r.shownBytes += m.data.length;
    r.activity(m.receivedAt);
    const from = formatHostPort(m.address, m.port);
    const asJson = json || logOut ? tcpJsonLine(m) : undefined;
    if (json) out.chunk(asJson!);
    else writeTcpTextLine(out, m);
    logOut?.chunk(asJson!);
    if (m.cutBy === 'line-limit') io.stderr.write(`note: a line from ${from} was longer than 1 MiB; shown cut\n`);
    if (m.cutBy === 'buffer-limit') io.stderr.write(`note: a line from ${from} was cut at ${m.data.length} bytes: unfinished lines may hold ${maxBuffered} in all (--max-buffered); shown cut\n`);
    if (m.endedBy === 'peer') io.stderr.write(`note: ${from} closed the connection mid-line; shown what arrived\n`);
    if (m.endedBy === 'idle') io.stderr.write(`note: ${from} sent nothing for ${idleSeconds} s mid-line (--idle-timeout); closed it and shown what arrived\n`);
    if ((isStop && isStop(m.data)) || r.reachesCount(0)) r.finish(EXIT_OK);
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
  listener.on('error', (err: Error) => r.fail(`listening on port ${listener.address().port}/tcp failed: ${err.message}`));

  const code = await r.wait();
  await listener.close();
  await Promise.all([out.end(), logOut?.end()]);
  if (log) {
    await new Promise<void>((resolve) => log.stream.end(resolve));
    const { closeSync } = await import('node:fs');
    closeSync(log.fd);
  }
  return r.report(code, formatTcpSummary(r.shown, r.shownBytes, listener.stats, afterStop, allow !== undefined || key !== undefined));
}
