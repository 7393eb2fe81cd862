// --explain: what each line of a script becomes in the kernel, like `objdump -S` for BPF. For each
// program, the statements of its probe, each followed by the BPF instructions compiled from it
// (from the object's BTF line info); then the helpers it calls; then every map with its layout.
import type { Probe, Stmt } from '../model/ast.js';
import type { Span } from '../model/span.js';
import type { MapSpec, TypedProgram } from '../model/program.js';
import { targetNamesMap } from '../model/object-layout.js';
import { tupleLayout, typeName } from '../model/types.js';
import { walk } from '../model/walk.js';
import { disassemble, helperName, type Instruction } from './disasm.js';
import { readObject, type LineInfo, type ObjectProgram } from './object.js';

export interface ExplainInput {
  /** The compiled object (ELF), as it would be loaded. */
  readonly elf: Buffer;
  readonly source: { readonly name: string; readonly text: string };
  readonly program: TypedProgram;
  /** Each kernel program's function name and what it attaches to (`tracepoint:sched:sched_switch`). */
  readonly programs: readonly { readonly name: string; readonly probe: { readonly probe: Probe }; readonly targets: readonly { readonly name: string }[] }[];
  /** The script map each map symbol of the object stands for (`tl_start` → `@start`); internal maps keep their symbols. */
  readonly mapNames: ReadonlyMap<string, string>;
}

const STATEMENTS = new Set(['ExprStmt', 'AssignStmt', 'IfStmt', 'WhileStmt', 'ForStmt', 'UnrollStmt', 'JumpStmt']);

interface Statement {
  readonly line: number;
  readonly column: number;
  /** Its first line of text: `@start[tid] = nsecs`, `/pid > 1/` for a predicate. */
  readonly text: string;
}

/** The predicate and statements of a probe, in source order. */
function statementsOf(probe: Probe, text: string): Statement[] {
  const firstLine = (span: Span): string => text.slice(span.start, span.end).split('\n')[0]!.trim();
  const found: Statement[] = [];
  const p = probe.predicate?.span;
  if (p) found.push({ line: p.line, column: p.column, text: `/${firstLine(p)}/` });
  walk(probe.body, (node) => {
    const s = node as Stmt;
    if (STATEMENTS.has(s.kind)) found.push({ line: s.span.line, column: s.span.column, text: firstLine(s.span) });
  });
  return found.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * What a debug location (line:column) of a probe's code stands for, as `  12 | @start[tid] = nsecs`:
 * the statement or predicate that starts there; else, on the probe's first line, its attach
 * points (the checks every probe begins with); else the whole line.
 */
export function sourceAt(probe: Probe | undefined, text: string, line: number, column: number): string {
  let found = probe && statementsOf(probe, text).find((s) => s.line === line && s.column === column)?.text;
  if (probe && !found && line === probe.span.line) {
    const points = probe.attachPoints;
    found = text.slice(points[0]!.span.start, points[points.length - 1]!.span.end).split('\n')[0]!.trim();
  }
  return sourceLine(line, found ?? text.split('\n')[line - 1]?.trim() ?? '');
}

function sourceLine(line: number, text: string): string {
  return `${String(line).padStart(5)} | ${text}`;
}

/** The line info that applies at an instruction: the last entry at or before it. */
function placeAt(lines: readonly LineInfo[], index: number, from: number): number {
  let k = from;
  while (k + 1 < lines.length && lines[k + 1]!.index <= index) k++;
  return k;
}

function instructionText(insn: Instruction, mapNames: ReadonlyMap<string, string>, total: number): string {
  let text = insn.text;
  if (insn.map !== undefined) text = text.replace(`map[${insn.map}]`, `map[${mapNames.get(insn.map) ?? insn.map}]`);
  const jump = /goto ([+-]\d+)$/.exec(text);
  if (jump) {
    const to = insn.index + 1 + Number(jump[1]);
    text += to === total ? '   // to the end' : `   // to ${to}`;
  }
  return `${String(insn.index).padStart(9)}: ${text}`;
}

export function programOf(input: Pick<ExplainInput, 'programs'>, name: string): ExplainInput['programs'][number] | undefined {
  return input.programs.find((p) => p.name === name);
}

/** The listing of one program: each run of instructions under the statement it came from. */
export function explainProgram(object: ObjectProgram, input: ExplainInput, only?: { line: number; column: number }): string {
  const meta = programOf(input, object.name);
  const insns = disassemble(object.code, object.relocations);
  const total = object.code.length / 8;
  const out: string[] = [];
  const attached = meta ? meta.targets.map((t) => t.name) : [];
  const shown = attached.length > 3 ? [...attached.slice(0, 3), `... (${attached.length} in all)`] : attached;
  out.push(`${object.name}: ${shown.join(', ') || object.section}  [section ${object.section}, ${total} instructions]`);
  let current: string | undefined;
  let k = 0;
  const helpers = new Map<number, number>();
  for (const insn of insns) {
    if (insn.helper !== undefined) helpers.set(insn.helper, (helpers.get(insn.helper) ?? 0) + 1);
    k = placeAt(object.lines, insn.index, k);
    const info = object.lines[k];
    if (only && (info?.line !== only.line || info.column !== only.column)) continue;
    // Line info may change where the source shown does not (column 0, then the probe's column).
    const header = info && info.line > 0 ? sourceAt(meta?.probe.probe, input.source.text, info.line, info.column) : current;
    if (header !== current) out.push(header!);
    current = header;
    out.push(instructionText(insn, input.mapNames, total));
  }
  if (only) return out.join('\n');
  // A scratch variable may live in a register: its statement's code is that of where it is used.
  const placed = new Set(object.lines.map((l) => `${l.line}:${l.column}`));
  const folded = meta ? statementsOf(meta.probe.probe, input.source.text).filter((st) => !placed.has(`${st.line}:${st.column}`)) : [];
  if (folded.length > 0) {
    out.push('  no instructions of their own (folded into the code that uses them):', ...folded.map((st) => sourceLine(st.line, st.text)));
  }
  if (helpers.size > 0) {
    out.push(`  helpers called: ${[...helpers].map(([id, n]) => `${helperName(id)} (${n}x)`).join(', ')}`);
  }
  return out.join('\n');
}

/** The instructions compiled from the statement at line:column of a program (for a verifier rejection). */
export function explainStatement(input: ExplainInput, program: string, line: number, column: number): string {
  const object = readObject(input.elf).find((o) => o.name === program);
  return object ? explainProgram(object, input, { line, column }) : '';
}

function layout(t: MapSpec['valueType'] | undefined, size: number, extra: string): string {
  if (!t) return `${size === 4 ? 'u32' : 'u64'} zero (${size} bytes)${extra}`;
  const parts = t.kind === 'tuple'
    ? ` = { ${tupleLayout(t.elements).offsets.map((o, i) => `${typeName(t.elements[i]!)} at ${o}`).join(', ')} }`
    : '';
  return `${typeName(t)}${parts} (${size} bytes)${extra}`;
}

/** One line per script map: kind, BPF map type, entries, key and value layout. */
function describeMap(spec: MapSpec): string {
  const histogram = spec.kind === 'hist' || spec.kind === 'lhist' || spec.kind === 'tseries';
  const key = !spec.keyType && histogram && !spec.bucketsInValue
    ? `u64 bucket index (${spec.keySize} bytes)`
    : layout(spec.keyType, spec.keySize, histogram && spec.keyType ? ', the last 8 the bucket index' : '');
  const perCpu = spec.bpfType.startsWith('percpu') ? ' per CPU' : '';
  const value = spec.bucketsInValue
    ? `${spec.kind}, ${spec.valueSize / 8} buckets of u64 counts (${spec.valueSize} bytes)${perCpu}`
    : layout(spec.valueType, spec.valueSize, perCpu);
  const entries = `${spec.maxEntries} ${spec.maxEntries === 1 ? 'entry' : 'entries'}`;
  return [
    `  ${spec.name}: ${spec.kind === 'scalar' ? 'a value' : `${spec.kind}()`}, BPF_MAP_TYPE_${spec.bpfType.toUpperCase()}, ${entries}${spec.preallocate ? '' : ', allocated on use'}`,
    `      key:   ${key}`,
    `      value: ${value}`,
  ].join('\n');
}

/** What the internal maps are for (their names are those main.ts gives them). */
const INTERNAL_MAPS: Readonly<Record<string, string>> = {
  tl_events: 'BPF_MAP_TYPE_RINGBUF: records for user space (printf, print, exit, ...)',
  tl_counters: 'global u64s (.bss.tl_counters, added to atomically): lost events, refused map updates',
  tl_readfail: 'global u64s (.bss.tl_readfail, added to atomically): the probe runs in which each read site\'s probe_read failed',
  tl_stopped: 'global u64 (.bss.tl_stopped): set when the run stops; probes return at once',
  tl_sys_enter: 'BPF_MAP_TYPE_ARRAY: syscall number -> tracepoint name, for `probe` in one program for many syscalls',
  tl_sys_exit: 'BPF_MAP_TYPE_ARRAY: syscall number -> tracepoint name, for `probe` in one program for many syscalls',
  tl_run: 'BPF_MAP_TYPE_ARRAY of u64: values only the run knows (start time for `elapsed`, the -c child for `cpid`)',
  tl_upids: 'BPF_MAP_TYPE_LRU_HASH: processes that have recorded a ustack (their mappings are read while they live)',
  tl_upids_ring: 'BPF_MAP_TYPE_RINGBUF: the pid of each process\'s first ustack, for the thread that reads its mappings at once',
  tl_stack_buf: 'BPF_MAP_TYPE_PERCPU_ARRAY: where a program writes a stack (bpf_get_stack) before looking it up; an entry per program',
  tl_stack_ids: 'global u64 (.bss.tl_stack_ids, added to atomically): the last stack id given out',
  tl_scratch: 'BPF_MAP_TYPE_PERCPU_ARRAY: where a program reads a large struct or array whole (not on its 512-byte stack); an entry per program',
};

/** What an internal map is for: by name, or by the pattern of those named per program or stack. */
function internalMap(name: string): string {
  if (INTERNAL_MAPS[name]) return INTERNAL_MAPS[name];
  if (name.endsWith(targetNamesMap(''))) {
    return 'BPF_MAP_TYPE_ARRAY: attach cookie -> the uprobe\'s func and probe, for one program for many uprobes';
  }
  return 'BPF_MAP_TYPE_HASH: the stacks kstack/ustack record (the frames, the key) and their ids (the value that map keys hold)';
}

export function explain(input: ExplainInput): string {
  const objects = readObject(input.elf);
  const out = objects.map((o) => explainProgram(o, input));
  const maps = [...input.program.maps.values()].map(describeMap);
  const used = new Set(objects.flatMap((o) => [...o.relocations.values()]));
  const internal = [...used].filter((n) => !input.mapNames.has(n))
    .sort()
    .map((n) => `  ${n}: ${internalMap(n)}`);
  return `${out.join('\n\n')}\n\nmaps:\n${[...maps, ...internal].join('\n')}\n`;
}
