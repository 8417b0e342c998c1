import { describe, expect, it } from 'vitest';
import { echoRefusalNote, formatEcho, formatRefused } from '../../src/format/listen-counts.js';
import { ANSWER, BatchBuilder, type DatagramBatch } from '../../src/socket/batch.js';
import { Echoer } from '../../src/transport/echo.js';

/** A batch of datagrams as a listener hands it out. */
function batchOf(items: ReadonlyArray<{ text: string; address: string; port: number; answer?: boolean }>, receivedAt: number): DatagramBatch {
  const data = Buffer.from(items.map((d) => d.text).join(''));
  let at = 0;
  const addresses = [...new Set(items.map((d) => d.address))];
  const source: DatagramBatch = {
    count: items.length,
    data,
    starts: Uint32Array.from(items.map((d) => ((at += d.text.length), at - d.text.length))),
    lengths: Uint32Array.from(items.map((d) => d.text.length)),
    ports: Uint16Array.from(items.map((d) => d.port)),
    senders: Uint8Array.from(items.map((d) => addresses.indexOf(d.address))),
    addresses,
    families: addresses.map(() => 'IPv4' as const),
    replyAddresses: addresses.map((a) => `::ffff:${a}`),
    flags: Uint8Array.from(items.map((d) => (d.answer ? ANSWER : 0))),
    receivedAt,
  };
  return source;
}

const lan = () => ({
  eth0: [{ address: '192.168.7.20', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.7.20/24' }],
});

describe('Echoer', () => {
  it('sends back what the guard allows, to the reply address, and counts every datagram once', async () => {
    const sent: string[] = [];
    let reads = 0;
    const echo = new Echoer({ address: '::', port: 5000 }, async (payload, port, address) => {
      if (port === 9) throw new Error('no route');
      sent.push(`${payload.toString()} -> ${address}:${port}`);
    }, { interfaces: () => (reads++, lan() as never) });
    const refusals: string[] = [];
    const echo2 = new Echoer({ address: '::', port: 5000 }, async () => undefined, { onRefused: (r, f) => refusals.push(`${r} ${f.address}:${f.port}`), interfaces: lan as never });
    const b = batchOf(
      [
        { text: 'hi', address: '192.168.7.30', port: 40000 },
        { text: 'me', address: '192.168.7.20', port: 5000 },
        { text: 'ans', address: '192.168.7.30', port: 40000, answer: true },
        { text: 'hi', address: '192.168.7.30', port: 40000 },
        { text: 'hi', address: '192.168.7.30', port: 40000 },
        { text: 'net', address: '192.168.7.255', port: 40000 },
        { text: 'lost', address: '192.168.7.31', port: 9 },
      ],
      1_000,
    );
    echo.echo(b, 0, b.count);
    echo2.echo(b, 1, 3);
    await echo.settled();
    expect(sent).toEqual(['hi -> ::ffff:192.168.7.30:40000', 'hi -> ::ffff:192.168.7.30:40000']);
    expect(echo.stats).toEqual({ echoed: 2, failed: 1, refused: 4, refusedBy: { 'own-address': 1, answer: 1, 'same-payload': 1, 'not-unicast': 1 } });
    expect(refusals).toEqual(['own-address 192.168.7.20:5000', 'answer 192.168.7.30:40000']);
    // The interface list is read once a second at most.
    echo.echo(batchOf([{ text: 'a', address: '192.168.7.30', port: 1 }], 1_500), 0, 1);
    echo.echo(batchOf([{ text: 'b', address: '192.168.7.30', port: 1 }], 2_000), 0, 1);
    expect(reads).toBe(2);
    await echo.settled();
  });

  it('keeps the answer mark through a BatchBuilder, and only that mark', () => {
    const b = batchOf([{ text: 'x', address: '10.0.0.1', port: 1, answer: true }, { text: 'y', address: '10.0.0.1', port: 1 }], 0);
    const out = new BatchBuilder();
    out.add(Buffer.from('x'), b, 0);
    out.add(Buffer.from('y'), b, 1);
    expect(out.build(0).flags).toEqual(Uint8Array.from([ANSWER, 0]));
    const plain = new BatchBuilder();
    plain.add(Buffer.from('y'), b, 1);
    expect(plain.build(0).flags).toBeUndefined();
  });
});

describe('listen summary parts', () => {
  it('names only the refusal reasons that occurred, in check order', () => {
    expect(formatRefused(0, {})).toBe('refused 0');
    expect(formatRefused(4, { replayed: 1, source: 1, misdirected: 2 })).toBe('refused 4 (source 1, misdirected 2, replayed 1)');
  });

  it('adds up: echoed + limited + not echoed', () => {
    expect(formatEcho({ echoed: 3, failed: 0, refused: 0, refusedBy: {} })).toBe('echoed 3');
    expect(formatEcho({ echoed: 3, failed: 1, refused: 4, refusedBy: { 'peer-rate': 1, 'same-payload': 1, 'own-address': 1, answer: 1 } })).toBe(
      'echoed 3; echo limited 2 (per peer 1, same payload 1); not echoed 3 (own address 1, sealed answer 1, send failed 1)',
    );
  });

  it('explains the first refusal of each kind', () => {
    expect(echoRefusalNote('own-address', { address: '::1', port: 5000, family: 'IPv6' })).toBe(
      "not echoing to [::1]:5000, this listener's own port on this machine (a forged source?); from now on such datagrams are only counted in the summary",
    );
  });
});
