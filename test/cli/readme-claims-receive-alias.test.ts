/**
 * README: "### `udpkit listen` (alias `receive`)". The alias must behave exactly like the
 * command: the same help, and for the same datagrams (sent by Python's socket module) the same
 * lines on stdout, the same status and summary on stderr and the same exit code, up to the
 * ports the OS chose and the arrival times.
 */
import { describe, expect, it } from 'vitest';
import { killedAfterEach, runCli, start, waitForStderr, type CliResult } from '../helpers/cli.js';
import { pySend } from '../helpers/py-udp.js';

const { track } = killedAfterEach();

/** Text, a tab, an escape sequence, an empty datagram, and the stop word with spaces. */
const PAYLOADS = ['hello 世界', 'tab\there', 'esc \u001b[2J', '', '  BYE  '];

/** Runs `udpkit COMMAND ARGS -p 0`, sends PAYLOADS from Python (the last one stops it), and returns its output with the ports and times named. */
async function run(command: 'listen' | 'receive', args: readonly string[]): Promise<CliResult> {
  const r = track(start([command, ...args, '-p', '0']));
  const port = Number((await waitForStderr(r, /listening on .*?:(\d+)\/udp/))[1]);
  const from = await pySend(port, PAYLOADS);
  const done = await r.done;
  const named = (s: string): string =>
    s
      .replaceAll(`:${port}/udp`, ':LISTEN/udp')
      .replaceAll(`PORT ${from} `, 'PORT SENDER ')
      .replaceAll(`"port":${from},`, '"port":"SENDER",')
      .replace(/"time":"[^"]+"/g, '"time":"T"');
  return { ...done, stdout: named(done.stdout), stderr: named(done.stderr) };
}

describe('README: `receive` is `listen`', () => {
  it('the same --help, word for word', async () => {
    const [listen, receive] = await Promise.all([runCli(['listen', '--help']), runCli(['receive', '--help'])]);
    expect(listen.code).toBe(0);
    expect(listen.stdout).toMatch(/^Usage: udpkit listen\|receive \[options\]\n/);
    expect(receive).toEqual(listen);
  });

  for (const args of [[], ['--json'], ['--hex', '--no-stop-word', '-n', '5']] as readonly (readonly string[])[]) {
    it(`the same output for the same datagrams: ${['receive', ...args].join(' ')}`, async () => {
      const listen = await run('listen', args);
      const receive = await run('receive', args);
      expect(listen.code).toBe(0);
      if (!args.includes('--hex')) expect(listen.stdout.split('\n')).toHaveLength(PAYLOADS.length + 1);
      if (args.length === 0) {
        expect(listen.stdout).toBe(
          ['hello 世界', 'tab\there', 'esc \\x1b[2J', '', '  BYE  '].map((t) => `received message: ${t} from PORT SENDER on 127.0.0.1\n`).join(''),
        );
      }
      expect(listen.stderr.split('\n').at(-2)).toBe(`received ${PAYLOADS.length} datagrams, ${PAYLOADS.reduce((n, p) => n + Buffer.byteLength(p), 0)} bytes; kernel dropped 0`);
      expect(receive).toEqual(listen);
    });
  }

  it('the same usage errors, each naming its own --help', async () => {
    const [listen, receive] = await Promise.all([runCli(['listen', '--port', 'x']), runCli(['receive', '--port', 'x'])]);
    const line = 'udpkit: --port must be an integer from 0 to 65535, got "x"\n';
    expect(listen).toMatchObject({ code: 2, stdout: '', stderr: `${line}hint: see 'udpkit listen --help'\n` });
    expect(receive).toMatchObject({ code: 2, stdout: '', stderr: `${line}hint: see 'udpkit receive --help'\n` });
  });
});
