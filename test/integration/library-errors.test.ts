/**
 * Library errors name the option, not a CLI flag. The case: openSender to the LAN's directed
 * broadcast address without `broadcast: true`. connect() fails with EACCES before anything is
 * sent, on the native path and on node:dgram alike (npm run test:dgram runs this file with
 * UDPKIT_NATIVE=0, which the child inherits). It runs inside a network-namespace host, never in
 * the machine's own namespace: were the check ever lost, a broadcast must not reach a real LAN.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED library error LAN test: ${support.reason}`);

const LIBRARY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Opens a sender in the host with the built library; prints the error's fields as JSON. */
const SCRIPT = `
const { openSender } = await import(process.argv[1]);
const err = await openSender({ host: process.argv[2], port: 9, broadcast: false }).then(async (s) => { await s.close(); return undefined; }, (e) => e);
const { code, syscall, errno, option, address, port, message } = err ?? {};
console.log(JSON.stringify(err === undefined ? null : { code, syscall, errno, option, address, port, message }));
`;

describe.skipIf(!support.ok)('library errors name the option, not a CLI flag', () => {
  let lan: Lan;
  let h1: LanHost;

  beforeAll(async () => {
    lan = await createLan(1);
    h1 = lan.hosts[0] as LanHost;
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('a broadcast address without broadcast: true says which option it needs', async () => {
    const [cmd, ...prefix] = h1.exec;
    const { stdout } = await promisify(execFile)(cmd as string, [...prefix, process.execPath, '--input-type=module', '-e', SCRIPT, LIBRARY, h1.broadcast], { timeout: 20_000 });
    const err = JSON.parse(stdout) as Record<string, unknown> | null;
    expect(err).toEqual({
      code: 'UDPKIT_SEND_FAILED',
      syscall: 'connect',
      errno: 'EACCES',
      option: 'broadcast',
      address: h1.broadcast,
      port: 9,
      message: `cannot send to ${h1.broadcast}:9/udp: permission denied (a broadcast address needs the broadcast option)`,
    });
  });
});
