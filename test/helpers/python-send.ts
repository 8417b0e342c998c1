/**
 * Sends datagrams with Python's socket module (a peer udpkit did not write): one socket bound to
 * `from` (any 127.0.0.0/8 address: Linux routes the whole block to lo), each payload with one
 * sendto, in order. Resolves with the peer's port and how many the kernel took.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SCRIPT = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
sent = 0
for h in sys.argv[3:]:
    s.sendto(bytes.fromhex(h), ("127.0.0.1", int(sys.argv[2])))
    sent += 1
print(json.dumps({"port": s.getsockname()[1], "sent": sent}))
`;

/** Sends `payloads` from `from` (an IPv4 loopback address) to 127.0.0.1:`port`. */
export async function pythonSend(from: string, port: number, payloads: readonly Uint8Array[]): Promise<{ port: number; sent: number }> {
  const hex = payloads.map((p) => Buffer.from(p).toString('hex'));
  const { stdout } = await run('python3', ['-c', SCRIPT, from, String(port), ...hex], { timeout: 10_000 });
  return JSON.parse(stdout) as { port: number; sent: number };
}
