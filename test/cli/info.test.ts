/** `udpkit info` end to end: the built binary on this machine, checked against iproute2. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectedInterfaceLines, ipAddr, ipPrimary, stateOf } from '../helpers/ip-json.js';

/** The line the hosts file earns, worked out here without udpkit's parser. */
function expectedNote(): string[] {
  const name = hostname().toLowerCase();
  const line = readFileSync('/etc/hosts', 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .find(([addr, ...names]) => /^\d+\.\d+\.\d+\.\d+$/.test(addr ?? '') && names.some((n) => n.toLowerCase() === name));
  const addr = line?.[0];
  if (!addr?.startsWith('127.')) return [];
  return [
    `note: /etc/hosts maps this machine's name "${hostname()}" to ${addr}, so the textbook's gethostbyname(gethostname()) ` +
      `returns ${addr}, a loopback address no other host can reach; udpkit reads the interfaces instead`,
  ];
}

describe('udpkit info', () => {
  it('prints IP: and MAC: of the primary interface, then the interfaces that are up, exit 0', async () => {
    const r = await runCli(['info']);
    const primary = ipPrimary();
    const shown = ipAddr().filter((l) => l.link_type !== 'loopback' && stateOf(l) !== 'down');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n')).toEqual([
      `IP: ${primary?.ipv4 ?? 'none'}`,
      `MAC: ${primary?.mac ?? 'none'}`,
      ...expectedNote(),
      '',
      ...shown.flatMap(expectedInterfaceLines),
      '',
    ]);
  });

  it('--all adds loopback and interfaces that are down', async () => {
    const r = await runCli(['info', '--all']);
    expect(r.code).toBe(0);
    const body = r.stdout.split('\n').slice(3 + expectedNote().length);
    expect(body).toEqual([...ipAddr().flatMap(expectedInterfaceLines), '']);
  });

  it('--json prints one JSON document with the same data', async () => {
    const r = await runCli(['info', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const doc = JSON.parse(r.stdout);
    expect(doc.hostname).toBe(hostname());
    expect(doc.primary).toEqual(ipPrimary() ?? null);
    expect(doc.interfaces.map((i: { name: string }) => i.name)).toEqual(
      ipAddr()
        .filter((l) => l.link_type !== 'loopback' && stateOf(l) !== 'down')
        .map((l) => l.ifname),
    );
    const all = JSON.parse((await runCli(['info', '--json', '--all'])).stdout);
    expect(all.interfaces).toHaveLength(ipAddr().length);
  });

  it('refuses an argument it does not take (exit 2)', async () => {
    const r = await runCli(['info', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
  });
});
