/**
 * The web page's live log as a pcapng download (`GET /api/log/export?format=pcapng`): tcpdump
 * reads it, with the datagrams Python's socket module sent, from IPv4 and IPv6, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonSendFrom } from '../helpers/python-send-any.js';
import { tcpdumpRead } from '../helpers/tcpdump-read.js';
import { startUi, type RunningUi } from '../helpers/ui.js';
import { askUntil } from '../helpers/ui-flood.js';

describe('udpkit ui: the live log as pcapng', () => {
  let ui: RunningUi;
  let port: number;

  beforeAll(async () => {
    ui = await startUi();
    const res = await ui.api('/api/listeners', { method: 'POST', json: { port: 0 } });
    expect(res.status).toBe(201);
    port = ((await res.json()) as { port: number }).port;
  });
  afterAll(async () => {
    await ui?.stop();
  });

  it('exports every logged datagram, and tcpdump reads them back byte for byte', async () => {
    const v4 = [Buffer.from('ping from v4'), Buffer.from([0, 0xff, 0x0a, 0x80])];
    const v6 = [Buffer.alloc(1500, 0x3c), Buffer.from('ping from v6')];
    const a = await pythonSendFrom('127.0.0.7', '127.0.0.1', port, v4);
    const b = await pythonSendFrom('::1', '::1', port, v6);
    await askUntil(
      async () => ((await (await ui.api('/api/log')).json()) as { newestId: number }).newestId,
      (n) => n >= 4,
    );
    const res = await ui.api('/api/log/export?format=pcapng');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="udpkit-log.pcapng"');
    const { packets } = await tcpdumpRead(Buffer.from(await res.arrayBuffer()));
    const expected = [
      ...v4.map((p) => ({ src: '127.0.0.7', srcPort: a.port, dst: '0.0.0.0', p })),
      ...v6.map((p) => ({ src: '::1', srcPort: b.port, dst: '::', p })),
    ];
    expect(packets.map((p) => [p.src, p.srcPort, p.dst, p.dstPort, p.payload.toString('hex')])).toEqual(
      expected.map((e) => [e.src, e.srcPort, e.dst, port, e.p.toString('hex')]),
    );
    for (const p of packets) expect(p.text).toContain('[udp sum ok]');
  });

  it('refuses a format it does not know (400)', async () => {
    const res = await ui.api('/api/log/export?format=erf');
    expect(res.status).toBe(400);
  });

  it('offers the download on the page', async () => {
    const page = await (await fetch(ui.url)).text();
    expect(page).toContain('id="log-export-pcapng"');
  });
});
