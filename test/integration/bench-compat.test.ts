/**
 * A client against a server older than the `extended` RESULT (issue 15): such a server ignores a
 * 96-byte RESULT_REQUEST as malformed. Played here by a relay in front of a real server that
 * drops exactly those, as the old decoder would; everything else passes both ways.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { BenchOp } from '../../src/protocol/bench-frames.js';
import { benchClient } from '../../src/transport/bench-client.js';
import { benchServer, type BenchServer } from '../../src/transport/bench-server.js';

const servers: BenchServer[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const s of sockets.splice(0)) s.close();
});

async function bound(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

/** A relay to `serverPort` that drops 96-byte RESULT_REQUESTs and STARTs with flags, as an older server's decoder does; counts what it dropped. */
async function olderServerFront(serverPort: number): Promise<{ port: number; dropped: () => number }> {
  const front = await bound();
  const back = await bound();
  let client: dgram.RemoteInfo | undefined;
  let dropped = 0;
  front.on('message', (msg, from) => {
    client = from;
    const control = msg[3] === 0x43;
    if ((control && msg.length === 96 && msg[4] === BenchOp.RESULT_REQUEST) || (control && msg[4] === BenchOp.START && msg[5] !== 0)) {
      dropped++;
      return;
    }
    back.send(msg, serverPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (client) front.send(msg, client.port, client.address);
  });
  return { port: front.address().port, dropped: () => dropped };
}

describe('bench against an older server', () => {
  it('falls back to 72-byte requests: the report comes, delay variation unknown', async () => {
    const server = await benchServer({ address: '127.0.0.1', port: 0 });
    servers.push(server);
    const front = await olderServerFront(server.address().port);
    const report = await benchClient({ host: '127.0.0.1', port: front.port, durationMs: 600, rate: 2000, intervalMs: 150, answerTimeoutMs: 3000 });
    // The first reading went unanswered (dropped as an old server would); later ones and the
    // final result were asked the old way.
    expect(front.dropped()).toBe(1);
    expect(report.received + report.lost).toBe(report.sent);
    expect(report.sent).toBeGreaterThan(600);
    expect(report.delay.delayVarMeanMs).toBeNull();
    expect(report.delay.delayVarMaxMs).toBeNull();
    expect(report.intervals.length).toBeGreaterThanOrEqual(2);
    expect(report.intervals.every((i) => i.delayVarMs === null)).toBe(true);
    expect(report.intervals.reduce((a, i) => a + i.received, 0)).toBe(report.received);
  });

  it('--reverse against it fails with one clear message: the server is older than --reverse', async () => {
    const server = await benchServer({ address: '127.0.0.1', port: 0 });
    servers.push(server);
    const front = await olderServerFront(server.address().port);
    const err = await benchClient({ host: '127.0.0.1', port: front.port, durationMs: 100, direction: 'reverse', answerTimeoutMs: 600 }).then(
      () => undefined,
      (e: { code: string; message: string }) => e,
    );
    expect(err?.code).toBe('UDPKIT_NO_ANSWER');
    expect(err?.message).toBe(`no answer from bench server at 127.0.0.1:${front.port}/udp (a server older than reverse and bidirectional tests ignores them: update udpkit there, or test one way)`);
    expect(front.dropped()).toBeGreaterThanOrEqual(1);
  });

  it('a newer server answers both kinds: the report carries delay variation', async () => {
    const server = await benchServer({ address: '127.0.0.1', port: 0 });
    servers.push(server);
    const report = await benchClient({ host: '127.0.0.1', port: server.address().port, durationMs: 300, rate: 2000 });
    expect(report.delay.delayVarMeanMs).toBeGreaterThanOrEqual(0);
    expect(report.delay.delayVarMaxMs).toBeGreaterThanOrEqual(report.delay.delayVarMeanMs!);
  });
});
