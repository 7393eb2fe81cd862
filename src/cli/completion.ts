// `tracelet --completion bash|zsh`: a shell completion script made from the command's own option
// list, so it cannot fall behind the options. Probe names come from `tracelet -l` (as root: the
// listing needs the kernel), only once a provider has been typed (`tracepoint:sch<TAB>`).
import type { Option } from 'commander';

type ValueKind = 'file' | 'dir' | 'pid' | 'command' | 'probe' | 'program' | 'regex';

/** What a completion script needs to know of an option. */
interface OptionInfo {
  readonly names: readonly string[];
  readonly description: string;
  /** The value it takes, if any: what to complete there. */
  readonly value?: ValueKind | { choices: readonly string[] };
  /** The value is given only as `--opt=value` (a bare `--explain` is followed by the program file). */
  readonly attached?: boolean;
}

/** How each shell completes each kind of value. */
const COMPLETE: Record<ValueKind, { bash: string; zsh: string }> = {
  file: { bash: 'COMPREPLY=($(compgen -f -- "$cur"))', zsh: ':file:_files' },
  dir: { bash: 'COMPREPLY=($(compgen -d -- "$cur"))', zsh: ':directory:_files -/' },
  pid: { bash: 'COMPREPLY=($(compgen -W "$(cd /proc && ls -d [0-9]*)" -- "$cur"))', zsh: ':pid:_pids' },
  command: { bash: 'COMPREPLY=($(compgen -c -- "$cur"))', zsh: ':command:_command_names -e' },
  probe: { bash: '_tracelet_probes', zsh: ':probe:_tracelet_probes' },
  program: { bash: 'COMPREPLY=()', zsh: ':program: ' },
  regex: { bash: 'COMPREPLY=()', zsh: ':regex: ' },
};

/** Probe types, as typed before the first ':' (the list bpftrace users know). */
export const PROBE_TYPES = [
  'BEGIN', 'END', 'tracepoint:', 'rawtracepoint:', 'uprobe:', 'uretprobe:', 'usdt:', 'profile:', 'interval:',
  'software:', 'hardware:', 'watchpoint:', 'kprobe:', 'kretprobe:', 'kfunc:', 'kretfunc:', 'test:', 'bench:',
];

/** What each option's value is, by its short or long name (the rest take none). */
const VALUES: Record<string, ValueKind> = {
  '-e': 'program', '--output': 'file', '--emit-llvm': 'file', '--emit-elf': 'file', '--include': 'file',
  '-I': 'dir', '-p': 'pid', '-c': 'command', '-l': 'probe', '--probe-filter': 'regex',
};

/** The command's options, and commander's own help option (not in its option list). */
export function describeOptions(options: readonly Option[]): OptionInfo[] {
  const help: OptionInfo = { names: ['-h', '--help'], description: 'print the options and the exit codes' };
  return [...options.map((o): OptionInfo => {
    const names = [o.short, o.long].filter((n): n is string => !!n);
    const takesValue = o.required || o.optional;
    const value = !takesValue ? undefined
      : o.argChoices ? { choices: o.argChoices } : names.map((n) => VALUES[n]).find((v) => v) ?? 'file';
    return { names, description: o.description, value, attached: o.optional && !!o.argChoices };
  }), help];
}

export function completionScript(shell: 'bash' | 'zsh', options: readonly OptionInfo[]): string {
  return shell === 'bash' ? bashScript(options) : zshScript(options);
}

function bashScript(options: readonly OptionInfo[]): string {
  const cases = options.filter((o) => o.value).map((o) => {
    const v = o.value!;
    const reply = typeof v === 'object' ? `COMPREPLY=($(compgen -W "${v.choices.join(' ')}" -- "$cur"))` : COMPLETE[v].bash;
    return `    ${o.names.map((n) => (o.attached ? `${n}=` : n)).join('|')}) ${reply}; return ;;`;
  });
  const words = options.flatMap((o) => o.names).join(' ');
  return `# bash completion for tracelet (made by: tracelet --completion bash)
# Install: tracelet --completion bash > /etc/bash_completion.d/tracelet (or source it from ~/.bashrc)
_tracelet_probes() {
  # The word up to the cursor, ':' included (bash splits words at ':').
  local word=\${COMP_LINE:0:$COMP_POINT}
  word=\${word##* }
  if [[ $word == *:* ]]; then
    COMPREPLY=($(tracelet -l "$word*" 2>/dev/null | head -n 500))
  else
    COMPREPLY=($(compgen -W "${PROBE_TYPES.join(' ')}" -- "$word"))
    compopt -o nospace 2>/dev/null
  fi
  # Offer only what follows the last ':' of the word, which is all bash replaces.
  local colon=\${word%"\${word##*:}"}
  COMPREPLY=("\${COMPREPLY[@]#"$colon"}")
}

_tracelet() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  [[ $prev == : || $cur == : ]] && prev=-l
  # bash splits \`--explain=ir\` into --explain, =, ir: an attached value's option is two words back.
  [[ $prev == = ]] && prev=\${COMP_WORDS[COMP_CWORD-2]}=
  [[ $cur == = ]] && { prev=$prev=; cur=; }
  case "$prev" in
${cases.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${words}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -X '!*.bt' -- "$cur") $(compgen -d -- "$cur"))
  fi
}
complete -o filenames -F _tracelet tracelet
`;
}

/** Text inside a zsh _arguments spec: brackets and colons would end its fields. */
function zshText(s: string): string {
  return s.replace(/[[\]:\\']/g, (c) => (c === "'" ? "'\\''" : `\\${c}`));
}

function zshScript(options: readonly OptionInfo[]): string {
  const specs = options.map((o) => {
    const v = o.value;
    const action = v === undefined ? '' : typeof v === 'object' ? `:value:(${v.choices.join(' ')})` : COMPLETE[v].zsh;
    const names = o.names.length > 1 ? `'(${o.names.join(' ')})'{${o.names.join(',')}}` : `'${o.names[0]}${o.attached ? '=-' : ''}'`;
    return `  ${names}'[${zshText(o.description)}]${action}'`;
  });
  return `#compdef tracelet
# zsh completion for tracelet (made by: tracelet --completion zsh)
# Install: tracelet --completion zsh > "\${fpath[1]}/_tracelet"

_tracelet_probes() {
  if [[ $PREFIX == *:* ]]; then
    local -a probes
    probes=(\${(f)"$(tracelet -l "$PREFIX*" 2>/dev/null | head -n 500)"})
    compadd -Q -- $probes
  else
    compadd -S '' -- ${PROBE_TYPES.join(' ')}
  fi
}

_tracelet() {
  _arguments -s \\
${specs.join(' \\\n')} \\
  '1:program file:_files -g "*.bt"' \\
  '*:positional parameter: '
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _tracelet "$@"
else
  compdef _tracelet tracelet
fi
`;
}
