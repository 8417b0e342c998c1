/**
 * `udpkit listen --tcp`: the same receiver over TCP. Each line of each connection is one
 * message; a line cut by the peer closing mid-line is shown all the same (it is what arrived),
 * followed by a note on stderr. See docs/protocol.md ("TCP mode").
 */
import { formatHostPort } from '../../errors.js';
import { jsonLine, textLine } from '../../format/datagram.js';
import { parseCidrList } from '../../net/address-filter.js';
import { listenTcp, type TcpMessage } from '../../socket/tcp-listener.js';
import { ipFamily, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { logWriteFailure, openLog } from '../datagram-sink.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { LineWriter } from '../line-writer.js';
import type { Opts } from '../main.js';
import { stopWordMatcher } from '../stop-word.js';

function describeBound(a: { address: string; port: number }): string {
  if (a.address === '::') return `*:${a.port}/tcp (IPv4 and IPv6)`;
  return `${formatHostPort(a.address, a.port)}/tcp`;
}

/** Runs `udpkit listen --tcp`. */
export async function run(_args: readonly string[], opts: Opts, io: CliIo): Promise<number> {
  const bind = (opts['bind'] as string | undefined)?.replace(/^\[|\]$/g, '');
  if (bind !== undefined && ipFamily(bind) === undefined) throw new UsageError(`--bind takes an IP address of this machine, got ${JSON.stringify(opts['bind'])}`);
  if (opts['hex'] === true || opts['echo'] === true) throw new UsageError(`--${opts['hex'] === true ? 'hex' : 'echo'} does not apply to --tcp`);
  const port = validatePort(opts['port'], { allowZero: true, name: '--port' });
  const stopWord = typeof opts['stopWord'] === 'string' ? opts['stopWord'] : undefined;
  const count = opts['count'] === undefined ? undefined : validateInteger(opts['count'], { name: '--count', min: 1 });
  const timeoutMs = opts['timeout'] === undefined ? undefined : validateSeconds(opts['timeout'], { name: '--timeout', min: 0.001 });
  const json = opts['json'] === true;
  const allow = opts['allow'] === undefined ? undefined : parseCidrList(opts['allow'] as string[]);
  const key = await keyFrom(opts, io.env);
  const log = opts['log'] === undefined ? undefined : openLog(opts['log'] as string);
  const listener = await listenTcp({
    port,
    ...(bind !== undefined ? { address: bind } : {}),
    ...(allow !== undefined ? { allow } : {}),
    ...(key !== undefined ? { key } : {}),
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
  const isStop = stopWord === undefined ? undefined : stopWordMatcher(stopWord);
  const stopHint = stopWord === undefined ? '' : `; stops on "${stopWord}"`;
  const keyHint = key === undefined ? '' : '; sealed frames only (--key)';
  io.stderr.write(`listening on ${describeBound(listener.address())}${stopHint}${keyHint}\n`);

  let received = 0;
  let receivedBytes = 0;
  let lastAt = Date.now();
  let ended = false;
  let failure: string | undefined;
  let resolveFinished!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (resolveFinished = resolve));
  const finish = (code: number): void => {
    ended = true;
    resolveFinished(code);
  };

  listener.on('message', (m: TcpMessage) => {
    if (ended) return;
    received++;
    receivedBytes += m.data.length;
    lastAt = m.receivedAt;
    const asJson = json || logOut ? jsonLine(m.data, 0, m.data.length, m.address, m.port, m.family, m.receivedAt) : undefined;
    out.chunk((json ? asJson! : textLine(m.data, 0, m.data.length, m.port, m.address)) + '\n');
    logOut?.chunk(asJson! + '\n');
    if (m.cut) io.stderr.write(`note: a line from ${formatHostPort(m.address, m.port)} was longer than 1 MiB; shown cut\n`);
    if (m.partial) io.stderr.write(`note: ${formatHostPort(m.address, m.port)} closed the connection mid-line; shown what arrived\n`);
    if ((isStop && isStop(m.data)) || (count !== undefined && received >= count)) finish(EXIT_OK);
  });
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
  let line = `received ${received} messages, ${receivedBytes} bytes; connections ${listener.stats.connections}`;
  if (allow !== undefined || key !== undefined) line += `; refused ${listener.stats.refused}`;
  io.stderr.write(line + '\n');
  if (failure !== undefined) io.stderr.write(`udpkit: ${failure}\n`);
  if (logFailure !== undefined) io.stderr.write(`udpkit: ${logFailure}\n`);
  return logFailure !== undefined ? EXIT_FAILURE : code;
}
