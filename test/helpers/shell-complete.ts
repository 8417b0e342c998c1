/**
 * Asks real shells what they complete, from a completion script `udpkit completion` printed:
 * bash by calling the completion function with COMP_WORDS/COMP_CWORD set, as bash does on Tab;
 * zsh by typing the line and a Tab into an interactive zsh under zpty and recording each word
 * the completion system offered (compadd), so zsh's own _arguments parses the generated specs.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function sh(file: string, args: readonly string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: 20_000, ...(cwd !== undefined ? { cwd } : {}) }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** True when the shell `name` is installed (asked once, when a test file is collected). */
export function hasShell(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A directory holding the script under the names each shell looks for. */
export function scriptDir(bash: string, zsh: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'udpkit-complete-'));
  writeFileSync(join(dir, 'udpkit.bash'), bash);
  writeFileSync(join(dir, '_udpkit'), zsh);
  return dir;
}

/** Runs bash with the script sourced, then `command`; its output. */
export async function bashWith(dir: string, command: string): Promise<string> {
  const r = await sh('bash', ['-c', `source ${JSON.stringify(join(dir, 'udpkit.bash'))} && ${command}`]);
  if (r.code !== 0 || r.stderr !== '') throw new Error(`bash failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** What bash offers for the last of `words` (the word being completed; '' for a new one), run in `cwd`. */
export async function bashComplete(dir: string, words: readonly string[], cwd?: string): Promise<string[]> {
  const script = `source "$1" && shift && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _udpkit && printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await sh('bash', ['-c', script, 'bash', join(dir, 'udpkit.bash'), ...words], cwd);
  if (r.code !== 0 || r.stderr !== '') throw new Error(`bash failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter((w) => w !== '').sort();
}

const ZSH_CAPTURE = fileURLToPath(new URL('./zsh-complete.zsh', import.meta.url));

/** What zsh offers after typing `line` and Tab, with the script in $fpath as `_udpkit`. */
export async function zshComplete(dir: string, line: string): Promise<string[]> {
  const r = await sh('zsh', ['-f', ZSH_CAPTURE, dir, line]);
  if (r.code !== 0) throw new Error(`zsh failed (${r.code}): ${r.stderr}`);
  return [...new Set([...r.stdout.matchAll(/<<([^>\r\n]*)>>/g)].map((m) => m[1]!))].sort();
}
