/** `udpkit listen`: the textbook receiver, done right. */
import { formatHostPort } from '../../errors.js';
import { formatHexDump, formatJsonLine, formatTextLine } from '../../format/datagram.js';
import { listen, type BoundAddress } from '../../socket/receiver.js';
import type { Datagram } from '../../types.js';
import { ipFamily, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.js';
import { LineWriter } from '../line-writer.js';
import type { Opts } from '../main.js';
import { stopWordMatcher } from '../stop-word.js';

function describeBound(a: BoundAddress): string {
  if (a.dualStack) return `*:${a.port}/udp (IPv4 and IPv6)`;
  if (a.address === '0.0.0.0') return `0.0.0.0:${a.port}/udp (IPv4)`;
  if (a.address === '::') return `[::]:${a.port}/udp (IPv6)`;
  return `${formatHostPort(a.address, a.port)}/udp`;
}

function parse(opts: Opts) {
  const bind = opts['bind'] as string | undefined;
  if (bind !== undefined && ipFamily(bind.replace(/^\[|\]$/g, '')) === undefined) {
    throw new UsageError(`--bind takes an IP address of this machine, got ${JSON.stringify(bind)}`);
  }
  return {
    port: validatePort(opts['port'], { allowZero: true, name: '--port' }),
    bind: bind?.replace(/^\[|\]$/g, ''),
    family: opts['ipv4'] ? 4 : opts['ipv6'] ? 6 : 0,
    stopWord: typeof opts['stopWord'] === 'string' ? opts['stopWord'] : undefined,
    count: opts['count'] === undefined ? undefined : validateInteger(opts['count'], { name: '--count', min: 1 }),
    timeoutMs: opts['timeout'] === undefined ? undefined : validateSeconds(opts['timeout'], { name: '--timeout', min: 0.001 }),
    json: opts['json'] === true,
    hex: opts['hex'] === true,
    echo: opts['echo'] === true,
  } as const;
}

/** Runs `udpkit listen`. */
export async function run(_args: readonly string[], opts: Opts, io: CliIo): Promise<number> {
  const o = parse(opts);
  const listener = await listen({
    port: o.port,
    ...(o.bind !== undefined ? { address: o.bind } : {}),
    family: o.family as 0 | 4 | 6,
  });
  const out = new LineWriter(io.stdout);
  const isStop = o.stopWord === undefined ? undefined : stopWordMatcher(o.stopWord);
  const stopHint = o.stopWord === undefined ? '' : `; stops on "${o.stopWord}"`;
  io.stderr.write(`listening on ${describeBound(listener.address())}${stopHint}\n`);

  let received = 0;
  let lastAt = Date.now();
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const onDatagram = (d: Datagram): void => {
    received++;
    lastAt = d.receivedAt;
    if (o.json) out.line(formatJsonLine(d));
    else {
      out.line(formatTextLine(d));
      if (o.hex && d.data.length > 0) out.line(formatHexDump(d.data));
    }
    if (o.echo) listener.reply(d, d.data).catch(() => undefined);
    if ((isStop && isStop(d.data)) || (o.count !== undefined && received >= o.count)) finish(EXIT_OK);
  };
  listener.on('datagram', onDatagram);
  listener.on('error', (err: Error) => {
    io.stderr.write(`udpkit: receiving on port ${listener.address().port}/udp failed: ${err.message}\n`);
    finish(EXIT_FAILURE);
  });

  let idle: NodeJS.Timeout | undefined;
  if (o.timeoutMs !== undefined) {
    const limit = o.timeoutMs;
    // One timer, re-armed for the remaining time, instead of a reset per datagram.
    const check = (): void => {
      const quiet = Date.now() - lastAt;
      if (quiet < limit) {
        idle = setTimeout(check, limit - quiet);
        return;
      }
      if (o.count !== undefined && received < o.count) {
        io.stderr.write(`udpkit: no datagram for ${limit / 1000} s; received ${received} of ${o.count}\n`);
        finish(EXIT_FAILURE);
      } else finish(EXIT_OK);
    };
    idle = setTimeout(check, limit);
  }
  const onAbort = (): void => finish(EXIT_OK);
  io.signal.addEventListener('abort', onAbort, { once: true });

  const code = await finished;
  listener.off('datagram', onDatagram);
  clearTimeout(idle);
  io.signal.removeEventListener('abort', onAbort);
  await listener.close();
  await out.end();
  return code;
}
