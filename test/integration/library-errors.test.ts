import { describe, expect, it } from 'vitest';
import { openSender } from '../../src/index.js';

// 127.255.255.255 is the loopback network's broadcast address (Linux's local routing table):
// connect() to it without SO_BROADCAST fails with EACCES before anything is sent, on the native
// path and on node:dgram alike (npm run test:dgram runs this file with UDPKIT_NATIVE=0).
describe('library errors name the option, not a CLI flag', () => {
  it('a broadcast address without broadcast: true says which option it needs', async () => {
    const err: unknown = await openSender({ host: '127.255.255.255', port: 9, broadcast: false }).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'UDPKIT_SEND_FAILED',
      syscall: 'connect',
      errno: 'EACCES',
      option: 'broadcast',
      address: '127.255.255.255',
      port: 9,
      message: 'cannot send to 127.255.255.255:9/udp: permission denied (a broadcast address needs the broadcast option)',
    });
    expect((err as Error).message).not.toContain('--');
  });
});
