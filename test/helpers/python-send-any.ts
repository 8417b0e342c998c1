/**
 * Sends datagrams with Python's socket module from an IPv4 or IPv6 address (the IPv4-only
 * helper is python-send.ts): one socket bound to `from`, each payload with one sendto, in order.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SCRIPT = `
import json, socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for h in sys.argv[4:]:
    s.sendto(bytes.fromhex(h), (sys.argv[2], int(sys.argv[3])))
print(json.dumps({"port": s.getsockname()[1], "sent": len(sys.argv) - 4}))
`;

/** Sends `payloads` from `from` (e.g. 127.0.0.2 or ::1) to `to`:`port`; resolves with the sender's port. */
export async function pythonSendFrom(from: string, to: string, port: number, payloads: readonly Uint8Array[]): Promise<{ port: number; sent: number }> {
  const hex = payloads.map((p) => Buffer.from(p).toString('hex'));
  const { stdout } = await run('python3', ['-c', SCRIPT, from, to, String(port), ...hex], { timeout: 10_000 });
  return JSON.parse(stdout) as { port: number; sent: number };
}
