/**
 * Shell completion scripts for bash and zsh, written from the commands' declarations (names,
 * aliases, flags, which flags take a value, a file or one of a few choices), so that a flag added
 * to a command is completed without anyone editing a script.
 */
import type { Argument, Option } from '@commander-js/extra-typings';
import type { AnyCommand } from './command-spec.js';

/** What completion needs to know of one flag. */
interface FlagInfo {
  readonly names: readonly string[];
  readonly description: string;
  /** 'none': a switch; 'required' or 'optional': takes a value. */
  readonly value: 'none' | 'required' | 'optional';
  readonly valueName: string;
  readonly choices: readonly string[] | undefined;
  readonly file: boolean;
}

/** What completion needs to know of one command. */
interface CommandInfo {
  readonly names: readonly string[];
  readonly description: string;
  readonly flags: readonly FlagInfo[];
  readonly args: readonly { readonly name: string; readonly variadic: boolean; readonly choices: readonly string[] | undefined }[];
}

/** Value names that are paths: completed from the file system. */
const FILE_VALUES = new Set(['path', 'file']);

function flagInfo(o: Option): FlagInfo {
  const valueName = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? '';
  return {
    names: [o.short, o.long].filter((n): n is string => n !== undefined),
    description: o.description,
    value: o.required ? 'required' : o.optional ? 'optional' : 'none',
    valueName,
    choices: o.argChoices,
    file: FILE_VALUES.has(valueName),
  };
}

function argInfo(a: Argument) {
  return { name: a.name(), variadic: a.variadic, choices: a.argChoices };
}

/** Reads what completion needs from the declared commands. */
export function describeCommands(commands: readonly AnyCommand[]): CommandInfo[] {
  return commands.map((c) => ({
    names: [c.name(), ...c.aliases()],
    description: c.description(),
    flags: [...c.options.map((o) => flagInfo(o as Option)), { names: ['-h', '--help'], description: 'show help', value: 'none', valueName: '', choices: undefined, file: false }],
    args: c.registeredArguments.map((a) => argInfo(a as Argument)),
  }));
}

/** A bash completion function, `_udpkit`, bound to `udpkit` by `complete -F`. */
export function bashScript(commands: readonly CommandInfo[]): string {
  const top = [...commands.flatMap((c) => c.names), '-h', '--help', '-V', '--version'].join(' ');
  const cases = commands.map((c) => {
    // After a flag that needs a value: a file name, one of its choices, or nothing to offer.
    // A flag whose value is optional (-w [seconds]) may be followed by another flag instead.
    const byReply = new Map<string, string[]>();
    for (const f of c.flags.filter((f) => f.value === 'required')) {
      const reply = f.file ? 'COMPREPLY=($(compgen -f -- "$cur"))' : f.choices ? `COMPREPLY=($(compgen -W "${f.choices.join(' ')}" -- "$cur"))` : ':';
      byReply.set(reply, [...(byReply.get(reply) ?? []), ...f.names]);
    }
    const valueCases = [...byReply].map(([reply, names]) => `        ${names.join('|')}) ${reply}; return ;;`);
    const argChoices = c.args.flatMap((a) => a.choices ?? []);
    const flags = c.flags.flatMap((f) => f.names).join(' ');
    const positional = argChoices.length > 0 ? `\n      if [[ "$cur" != -* ]]; then COMPREPLY=($(compgen -W "${argChoices.join(' ')}" -- "$cur")); return; fi` : '';
    return [
      `    ${c.names.join('|')})`,
      ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
      positional ? positional.slice(1) : '',
      `      COMPREPLY=($(compgen -W "${flags}" -- "$cur")) ;;`,
    ].filter((l) => l !== '').join('\n');
  });
  return [
    '# udpkit completion for bash; load it with: source <(udpkit completion bash)',
    '_udpkit() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  COMPREPLY=()',
    '  if [[ $COMP_CWORD -eq 1 ]]; then',
    `    COMPREPLY=($(compgen -W "${top}" -- "$cur"))`,
    '    return',
    '  fi',
    '  case "${COMP_WORDS[1]}" in',
    ...cases,
    '  esac',
    '}',
    'complete -F _udpkit udpkit',
    '',
  ].join('\n');
}

/** Text inside a zsh `_arguments` description: no brackets, colons or single quotes to end it early. */
function zshText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/([[\]:])/g, '\\$1');
}

function zshFlag(f: FlagInfo): string {
  const action = f.file ? '_files' : f.choices ? `(${f.choices.join(' ')})` : ' ';
  const value = f.value === 'none' ? '' : `${f.value === 'optional' ? '::' : ':'}${f.valueName || 'value'}:${action}`;
  const spec = (name: string) => `'${name}[${zshText(f.description)}]${value}'`;
  if (f.names.length === 1) return spec(f.names[0]!);
  // -p and --port are one flag: offering one hides the other.
  const group = `(${f.names.join(' ')})`;
  return `'${group}'{${f.names.join(',')}}'[${zshText(f.description)}]${value}'`;
}

/** A zsh completion function: as `_udpkit` in $fpath (#compdef), or sourced (compdef). */
export function zshScript(commands: readonly CommandInfo[]): string {
  const list = commands.flatMap((c) => c.names.map((n) => `    '${n}:${zshText(c.description)}'`));
  const cases = commands.map((c) => {
    const args = c.args.map((a, i) => {
      const action = a.choices ? `(${a.choices.join(' ')})` : ' ';
      return a.variadic ? `'*:${a.name}:${action}'` : `'${i + 1}:${a.name}:${action}'`;
    });
    const specs = [...c.flags.map(zshFlag), ...args].map((s) => `        ${s}`).join(' \\\n');
    return `    ${c.names.join('|')})\n      _arguments -s \\\n${specs}\n      ;;`;
  });
  return [
    '#compdef udpkit',
    '# udpkit completion for zsh; load it with: source <(udpkit completion zsh)',
    '_udpkit() {',
    '  local -a commands',
    '  commands=(',
    ...list,
    '  )',
    '  if (( CURRENT == 2 )); then',
    "    _describe 'command' commands",
    '    return',
    '  fi',
    '  local cmd=$words[2]',
    '  shift words',
    '  (( CURRENT-- ))',
    '  case $cmd in',
    ...cases,
    '  esac',
    '}',
    'if [[ "${funcstack[1]}" == _udpkit ]]; then _udpkit "$@"; else compdef _udpkit udpkit; fi',
    '',
  ].join('\n');
}
