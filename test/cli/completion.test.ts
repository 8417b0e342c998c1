/**
 * `udpkit completion bash|zsh`: the scripts the built binary prints, loaded into real shells and
 * asked for completions; the expected flags come from the commands' declarations themselves.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { declareCommand, type AnyCommand, type CommandSpec } from '../../src/cli/command-spec.js';
import { SPECS } from '../../src/cli/command-list.js';
import { runCli } from '../helpers/cli.js';
import { bashComplete, bashWith, hasShell, scriptDir, zshComplete } from '../helpers/shell-complete.js';

const specs = Object.values(SPECS) as CommandSpec<AnyCommand>[];

/** Every flag a command declares, short and long, plus the help flag. */
function declaredFlags(spec: CommandSpec<AnyCommand>): string[] {
  const cmd = declareCommand(spec);
  return [...cmd.options.flatMap((o) => [o.short, o.long].filter((n): n is string => n !== undefined)), '-h', '--help'].sort();
}

let bash = '';
let zsh = '';
let dir = '';

beforeAll(async () => {
  const [b, z] = await Promise.all([runCli(['completion', 'bash']), runCli(['completion', 'zsh'])]);
  expect(b).toMatchObject({ code: 0, stderr: '' });
  expect(z).toMatchObject({ code: 0, stderr: '' });
  bash = b.stdout;
  zsh = z.stdout;
  dir = scriptDir(bash, zsh);
});

describe('udpkit completion bash', () => {
  it('binds _udpkit to udpkit', async () => {
    expect(await bashWith(dir, 'complete -p udpkit')).toBe('complete -F _udpkit udpkit\n');
  });

  it('completes the first word with every command and alias', async () => {
    const names = specs.flatMap((s) => [s.name, ...(s.aliases ?? [])]);
    expect(await bashComplete(dir, ['udpkit', ''])).toEqual([...names, '-h', '--help', '-V', '--version'].sort());
    expect(await bashComplete(dir, ['udpkit', 're'])).toEqual(['receive', 'relay']);
  });

  it.each(specs.flatMap((s) => [s.name, ...(s.aliases ?? [])].map((n) => [n, s] as const)))('offers every flag %s declares', async (name, spec) => {
    expect(await bashComplete(dir, ['udpkit', name, '-'])).toEqual(declaredFlags(spec));
  });

  it('completes a prefix, and flags after an optional value', async () => {
    expect(await bashComplete(dir, ['udpkit', 'send', '--w'])).toEqual(['--wait-reply', '--window']);
    expect(await bashComplete(dir, ['udpkit', 'send', '127.0.0.1', '-w', '--a'])).toEqual(['--ack', '--ack-timeout']);
  });

  it('offers nothing where a value is due, file names for a path, choices for an argument', async () => {
    expect(await bashComplete(dir, ['udpkit', 'listen', '-p', ''])).toEqual([]);
    const files = mkdtempSync(join(tmpdir(), 'udpkit-files-'));
    writeFileSync(join(files, 'secret.key'), 'k');
    writeFileSync(join(files, 'other.txt'), 'x');
    expect(await bashComplete(dir, ['udpkit', 'listen', '--key-file', 'sec'], files)).toEqual(['secret.key']);
    expect(await bashComplete(dir, ['udpkit', 'completion', ''])).toEqual(['bash', 'zsh']);
  });
});

describe('udpkit completion zsh', () => {
  it('is a #compdef function with a case for every command and its flags', () => {
    expect(zsh).toMatch(/^#compdef udpkit\n/);
    expect(zsh).toMatch(/\nif \[\[ "\$\{funcstack\[1\]\}" == _udpkit \]\]; then _udpkit "\$@"; else compdef _udpkit udpkit; fi\n$/);
    for (const spec of specs) {
      expect(zsh).toContain(`\n    ${[spec.name, ...(spec.aliases ?? [])].join('|')})\n      _arguments -s \\\n`);
      for (const name of [spec.name, ...(spec.aliases ?? [])]) expect(zsh).toContain(`\n    '${name}:`);
    }
    expect(zsh).toContain(`'(-p --port)'{-p,--port}'[UDP port to listen on (0\\: any free port)]:port: '`);
    expect(zsh).toContain(`'--key-file[read the shared secret from a file]:path:_files'`);
    expect(zsh).toContain(`'(-w --wait-reply)'{-w,--wait-reply}'[wait for one reply and print it (default 5 s)]::seconds: '`);
    expect(zsh).toContain(`'1:shell:(bash zsh)'`);
  });

  // Runs only where zsh is installed; the test above checks the script's text everywhere.
  it.runIf(hasShell('zsh'))('completes commands, flags and choices in a real zsh', async () => {
    expect(await zshComplete(dir, 'udpkit re')).toEqual(['receive', 'relay']);
    expect(await zshComplete(dir, 'udpkit send --w')).toEqual(['--wait-reply', '--window']);
    expect(await zshComplete(dir, 'udpkit completion ')).toEqual(['bash', 'zsh']);
    const longListen = declaredFlags(SPECS.listen as unknown as CommandSpec<AnyCommand>).filter((f) => f.startsWith('--'));
    expect(await zshComplete(dir, 'udpkit listen --')).toEqual(longListen);
  });
});
