/**
 * A throwaway LAN in Linux network namespaces: a "switch" namespace holding a bridge, and one
 * namespace per host whose `eth0` is a veth to that bridge, addressed 10.77.0.K/24. Nothing is
 * created in the machine's own namespace: the veth pairs are made inside the switch namespace
 * and their host ends are created straight into the host namespace. Names carry the pid and a
 * random tag, so test files running in parallel never clash. Needs root.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run$ = promisify(execFile);

/** Prefix of every namespace this helper makes: `udpk<pid>-<tag>-...`. */
const PREFIX = 'udpk';

/** Whether this machine lets us build a LAN, and why not. */
export interface NetnsSupport {
  readonly ok: boolean;
  readonly reason?: string;
}

let probed: NetnsSupport | undefined;

/**
 * Checks, once per process, that we are root on Linux and can add a namespace, a bridge and a
 * veth pair inside it, and run a command there. Synchronous so `describe.skipIf` can use it.
 */
export function probeNetns(): NetnsSupport {
  if (probed) return probed;
  if (process.platform !== 'linux') return (probed = { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` });
  if (process.getuid?.() !== 0) return (probed = { ok: false, reason: 'network namespaces need root (run the tests as root)' });
  const ns = `${PREFIX}${process.pid}-probe-${randomBytes(3).toString('hex')}`;
  const steps: string[][] = [
    ['netns', 'add', ns],
    ['-n', ns, 'link', 'add', 'name', 'br0', 'type', 'bridge'],
    ['-n', ns, 'link', 'add', 'name', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
    ['netns', 'exec', ns, 'true'],
  ];
  let reason: string | undefined;
  for (const args of steps) {
    const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) {
      reason = `\`ip ${args.join(' ')}\` failed: ${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}`;
      break;
    }
  }
  spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  return (probed = reason === undefined ? { ok: true } : { ok: false, reason });
}

/** One host of the LAN. */
export interface LanHost {
  /** 1-based: host K has address 10.77.0.K. */
  readonly index: number;
  /** Its network namespace. */
  readonly ns: string;
  readonly iface: 'eth0';
  readonly address: string;
  readonly prefixLength: number;
  /** The directed broadcast address of the LAN. */
  readonly broadcast: string;
  /** The command prefix that runs something inside this host: `ip netns exec NS`. */
  readonly exec: readonly string[];
}

/** A running LAN. */
export interface Lan {
  readonly hosts: readonly LanHost[];
  readonly switchNs: string;
  /** Spawns `cmd args` inside the host's namespace; killed by {@link Lan.destroy} if still running. */
  run(host: LanHost, cmd: string, args: readonly string[]): ChildProcess;
  /** Runs an `ip` command inside the host's namespace and returns its stdout. */
  ip(host: LanHost, args: readonly string[]): Promise<string>;
  /** Kills what {@link Lan.run} started and removes every namespace. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Options of {@link createLan}. */
export interface LanOptions {
  /** The first three numbers of the /24; default `10.77.0`. */
  readonly subnet?: string;
}

const live = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Best effort when a test run dies before afterAll: remove what is still there.
  process.on('exit', () => {
    for (const ns of live) spawnSync('ip', ['netns', 'del', ns], { timeout: 5000 });
  });
  removeStale();
}

/** Removes namespaces left by earlier runs whose process no longer exists. */
function removeStale(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '';
  for (const line of list.split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-\\S+)`).exec(line.trim());
    if (!m || Number(m[2]) === process.pid) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      spawnSync('ip', ['netns', 'del', m[1]!], { timeout: 5000 });
    }
  }
}

async function ip(args: readonly string[]): Promise<string> {
  try {
    return (await run$('ip', [...args], { timeout: 10_000 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

async function addNamespace(ns: string): Promise<void> {
  await ip(['netns', 'add', ns]);
  live.add(ns);
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

/**
 * Builds a LAN of `count` hosts (at most 254). Call `destroy()` in `afterAll`.
 * @example
 * const lan = await createLan(3);
 * const child = lan.run(lan.hosts[1]!, 'ip', ['-j', 'addr']);
 */
export async function createLan(count: number, options: LanOptions = {}): Promise<Lan> {
  installExitHook();
  const subnet = options.subnet ?? '10.77.0';
  const base = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
  const switchNs = `${base}-sw`;
  const hosts: LanHost[] = [];
  const children = new Set<ChildProcess>();
  const destroy = async (): Promise<void> => {
    const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map((c) => {
        const closed = new Promise((resolve) => c.once('close', resolve));
        c.kill('SIGKILL');
        return closed;
      }),
    );
    children.clear();
    for (const ns of [switchNs, ...hosts.map((h) => h.ns)]) {
      if (!live.has(ns)) continue;
      live.delete(ns);
      await ip(['netns', 'del', ns]).catch(() => undefined);
    }
  };
  try {
    await addNamespace(switchNs);
    await ip(['-n', switchNs, 'link', 'add', 'name', 'br0', 'type', 'bridge']);
    await ip(['-n', switchNs, 'link', 'set', 'br0', 'up']);
    for (let k = 1; k <= count; k++) {
      const ns = `${base}-h${k}`;
      const address = `${subnet}.${k}`;
      hosts.push({ index: k, ns, iface: 'eth0', address, prefixLength: 24, broadcast: `${subnet}.255`, exec: ['ip', 'netns', 'exec', ns] });
      await addNamespace(ns);
      // Made in the switch namespace; its peer is created directly inside the host namespace.
      await ip(['-n', switchNs, 'link', 'add', 'name', `p${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ip(['-n', switchNs, 'link', 'set', `p${k}`, 'master', 'br0']);
      await ip(['-n', switchNs, 'link', 'set', `p${k}`, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${address}/24`, 'brd', '+', 'dev', 'eth0']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    hosts,
    switchNs,
    run(host, cmd, args) {
      const child = spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(child);
      child.once('close', () => children.delete(child));
      return child;
    },
    ip: (host, args) => ip(['-n', host.ns, ...args]),
    destroy,
  };
}
