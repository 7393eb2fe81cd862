// Writes docs/reference.md from the tables in src/model: every builtin variable, function and probe
// type, one heading each, so the reference cannot drift from what the compiler knows
// (test/docs/reference.test.ts checks that the file is what this writes).
//
//   npx tsx scripts/reference.ts

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN_VARIABLES } from '../src/model/builtins.js';
import { BUILTIN_FUNCTIONS, FUNCTION_NAMES, type BuiltinFunction } from '../src/model/functions.js';
import { PROVIDER_LIST, providerRecord } from '../src/model/providers.js';
import { CONFIG_VARIABLES } from '../src/model/config.js';

export const REFERENCE_FILE = fileURLToPath(new URL('../docs/reference.md', import.meta.url));

const code = (s: string): string => `\`${s}\``;

/** A `## ` section: one `### ` heading and its paragraphs per entry. */
function section(title: string, entries: readonly { heading: string; paragraphs: readonly string[] }[]): string {
  return `## ${title}\n${entries.map((e) => `\n### ${e.heading}\n\n${e.paragraphs.join('\n\n')}\n`).join('')}`;
}

function functionParagraphs(f: BuiltinFunction): string[] {
  return [
    `${f.signature.split(' or ').map(code).join(' or ')} returns ${f.returns}. ${f.doc}`,
    ...(f.unsafe ? ['Unsafe: refused without `--unsafe`.'] : []),
    ...(f.providers ? [`Only in ${f.providers.join(', ')} probes.`] : []),
    ...(f.differs ? [`Unlike bpftrace 0.17: ${f.differs}`] : []),
  ];
}

/** Syntax of newer bpftrace that has no table of its own: one entry each. */
const LANGUAGE: readonly { heading: string; paragraphs: readonly string[] }[] = [
  { heading: 'let @map = type(max_entries)', paragraphs: ['Before the probes (0.22+): the kernel map type of `@map` — `hash`, `lruhash` (evicts the least recently used keys when full), `percpuhash`, `percpulruhash` (for aggregations) — and its max entries.'] },
  { heading: 'p.field', paragraphs: ['`.` on a pointer to a struct dereferences it, as `->` does: `curtask.real_parent.pid` (0.2x).'] },
  { heading: '(int8[8])x, (uint64)$bytes', paragraphs: ['Casts between an integer and an integer array of the same size (the same bytes, little-endian); `(uint8[])x` takes the length from the value\'s size. Such arrays index on the stack (`$a[$i]`, 0 past the end) and print as `[1,2,3]`.'] },
  { heading: '$s[i]', paragraphs: ['A byte of a string, with any integer index; 0 past its end (0.25).'] },
  { heading: 'if $x { }', paragraphs: ['`if`, `while` and `unroll` take a one-operand condition without parentheses (0.24+), as bpftrace 0.26 does (`if $i == 2 {` needs them: `if ($i == 2) {`); `for` takes its loop without them too: `for $i : 0..10 { }`, `for $kv : @m { }` (0.26).'] },
  { heading: 'if c { a } else { b }', paragraphs: ['`if` with an `else` is also a value (0.26): `$x = if ($a > 1) { 10 } else { 20 };`, each branch a block expression (`{ let $t = 1; $t + 1 }`); where a statement begins it is the `if` statement.'] },
  { heading: 'return', paragraphs: ['Ends the probe from anywhere in it: in `if`, `while`, macros, and `for` loops over a map or a range (their bodies are callbacks: the loop stops, then the probe returns). `return N;` (0.25+) makes N the program\'s return value (0 without): a `test:` probe fails when it is not 0, a `bench:` probe is skipped.'] },
  { heading: 'name()', paragraphs: ['Any builtin variable may be written as a call without arguments: `pid()`, `ncpus()` (0.24+ defines builtins as macros).'] },
  { heading: 'ppid, pcomm, leader_tid, leader_comm, strlen, strcap, strstr, default_str_length, assert_str, is_err, assert', paragraphs: ['Macros of bpftrace 0.26\'s standard library, written in the language (`src/parser/stdlib.ts`, diagnostics point into `stdlib.bt`) and given to a script that uses them: `ppid` and `pcomm` are the pid and name of the current task\'s parent (`curtask.real_parent`), `leader_tid` and `leader_comm` those of its thread group leader; each also takes a task (`ppid(curtask.real_parent)`). `strlen(s)` is the length of a string, a char array or the string a char pointer points to (at most max_strlen - 1, as `str()` reads it); `strstr(haystack, needle)` the index of the first `needle` in `haystack`, or -1 (0 for an empty needle). `strcap(s)` is the capacity of a string-like value: a string\'s size with its terminator (`strcap(comm)` is 16), or the length of the string a char pointer points to; `default_str_length` is what `str()` reads from a pointer (max_strlen); `assert_str(s)` refuses, with `fail()`, a value that is not a string, a char array or a pointer to chars. `is_err(p)` is 1 when the pointer `p` is an error code in the kernel\'s `ERR_PTR` encoding (-4095 to -1, as `IS_ERR()`), else 0. `assert(cond, "message")` ends the run with exit code 1 and `assert failed: message` when `cond` is false. A script\'s own macro of the same name and number of parameters wins; macros are told apart by their number of parameters.'] },
  { heading: 'if comptime (c) { } else { }', paragraphs: ['`if comptime` (0.26) decides at compile time: `c` must fold to a constant (integer literals and arithmetic, comparisons, `!`, `&&`, `||`, `sizeof`, `$1`, the `is_*()` predicates) and only the branch it picks is checked and compiled, so a macro can use its parameter as a string in one branch and as an integer in the other: `macro show(x) { if comptime is_str(x) { printf("%s\\n", x); } else { printf("%d\\n", x); } }`. It is a value too (`$n = if comptime is_str(s) { sizeof(s) } else { 0 };`), and a macro used as a value may end with one: `macro len_of(s) { if comptime is_str(s) { strlen(s) } else { s } }`. A plain `if` whose condition folds still checks both branches, but a `fail()` in the one never taken is not reported.'] },
  { heading: 'printf("%s", enum value)', paragraphs: ['An integer of a C enum type (a field of a kernel struct or tracepoint, `(enum x)n`, a script\'s `enum`) printed with `%s` is the name of its enumerator (0.22+), or the number when none has that value; where several share the value, the last one\'s, as bpftrace. Other conversions print the number; arithmetic on it gives a plain integer. Map keys and values of enum type print as numbers, as 0.17.'] },
  { heading: 'ustack(build_id)', paragraphs: ['The build_id stack mode (0.26, `ustack` only): each frame is recorded as its file\'s GNU build id and the offset in that file, printed `<build id> 0x<offset>`, or as the address in hex when the file has no build id.'] },
];

/** The text of docs/reference.md. */
export function reference(): string {
  const variables = Object.values(BUILTIN_VARIABLES).map((v) => ({ heading: v.names.join(', '), paragraphs: [v.doc] }));
  const functions = FUNCTION_NAMES.map((name) => ({ heading: name, paragraphs: functionParagraphs(BUILTIN_FUNCTIONS[name]) }));
  const providers = PROVIDER_LIST.map((p) => {
    const r = providerRecord(p);
    const aliases = r.aliases.length ? ` (also written ${r.aliases.map(code).join(', ')})` : '';
    return { heading: p, paragraphs: [`${code(r.syntax)}${aliases}: ${r.doc}`] };
  });
  const config = Object.entries(CONFIG_VARIABLES).map(([name, v]) => {
    const values = v.kind === 'count' ? 'A positive integer' : v.kind === 'boolean' ? 'True or false' : v.kind === 'text' ? 'Text' : v.kind.map(code).join(', ');
    const env = [`BPFTRACE_${name.toUpperCase()}`, ...(v.legacyEnv ? [v.legacyEnv] : [])].map(code).join(' or ');
    return { heading: name, paragraphs: [`${values}; in the environment ${env}. ${v.doc ?? `Accepted without effect: ${v.unused}.`}`] };
  });
  return [
    '# tracelet reference\n',
    'Every builtin variable, function, probe type and config variable, one heading each, written from the tables in `src/model` ' +
      'by `scripts/reference.ts` (`test/docs/reference.test.ts` checks that it is up to date).\n',
    section('Builtin variables', variables),
    section('Functions', functions),
    section('Probe types', providers),
    section('Language of bpftrace 0.2x', LANGUAGE),
    section('Config variables', config),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(REFERENCE_FILE, reference());
