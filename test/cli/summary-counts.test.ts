/**
 * Summaries count in words people read: `1 datagram, 1 byte`, never `1 datagrams`. One
 * datagram (one byte) from Python's socket module, so that the singular is what shows.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli, start, waitForStderr, killedAfterEach } from '../helpers/cli.js';
import { formatTcpSummary } from '../../src/format/tcp.js';
import { quantity } from '../../src/format/quantity.js';
import type { TcpListenerStats } from '../../src/transport/tcp-listener.js';

const run = promisify(execFile);
const { listener, track } = killedAfterEach();

/** Python sends `payload` once to 127.0.0.1:`port` over `proto`, and exits when the kernel has it. */
async function pythonSend(proto: 'udp' | 'tcp', port: number, payload: string): Promise<void> {
  const code =
    proto === 'udp'
      ? 'import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.sendto(sys.argv[2].encode(),("127.0.0.1",int(sys.argv[1])))\ns.close()'
      : 'import socket,sys\ns=socket.create_connection(("127.0.0.1",int(sys.argv[1])))\ns.sendall(sys.argv[2].encode())\ns.shutdown(socket.SHUT_WR)\ns.recv(1)\ns.close()';
  await run('python3', ['-c', code, String(port), payload], { timeout: 10_000 });
}

describe('singular counts in summaries', () => {
  it('listen: one datagram of one byte is "received 1 datagram, 1 byte" (shown 1 + refused 0 + dropped 0 = sent 1)', async () => {
    const l = await listener(['-n', '1']);
    await pythonSend('udp', l.port, 'x');
    const r = await l.done;
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^received message: x from PORT \d+ on 127\.0\.0\.1\n$/) });
    expect(r.stderr.split('\n').at(-2)).toBe('received 1 datagram, 1 byte; kernel dropped 0');
  });

  it('listen --tcp: one message of one byte is "received 1 message, 1 byte"', async () => {
    const l = track(start(['listen', '--tcp', '-p', '0', '-n', '1']));
    const port = Number((await waitForStderr(l, /listening on .*?:(\d+)\/tcp/))[1]);
    await pythonSend('tcp', port, 'x\n');
    const r = await l.done;
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^received message: x from PORT \d+ on 127\.0\.0\.1\n$/) });
    expect(r.stderr.split('\n').at(-2)).toBe('received 1 message, 1 byte; connections 1');
  });

  it('send: "sent 1 datagram (1 byte)"', async () => {
    const l = await listener(['-n', '1']);
    const s = await runCli(['send', `127.0.0.1:${l.port}`, 'x']);
    expect(s).toMatchObject({ code: 0, stdout: '', stderr: `sent 1 datagram (1 byte) to 127.0.0.1:${l.port}/udp\n` });
    expect((await l.done).stderr.split('\n').at(-2)).toBe('received 1 datagram, 1 byte; kernel dropped 0');
  });

  it('the TCP summary\'s cut and after-stop counts are singular for one', () => {
    const stats = { connections: 1, refused: 0, refusedBy: {}, idleClosed: 0, cut: { 'line-limit': 1, 'buffer-limit': 0 }, discardedBytes: 1 } as unknown as TcpListenerStats;
    expect(formatTcpSummary(1, 1, stats, { messages: 1, bytes: 1 }, false)).toBe(
      'received 1 message, 1 byte; connections 1; cut 1 line (line limit 1), 1 byte not shown; after stop 1 message, 1 byte not shown',
    );
    expect(quantity(0, 'datagram')).toBe('0 datagrams');
    expect(quantity(2, 'echo', 'echoes')).toBe('2 echoes');
  });
});
