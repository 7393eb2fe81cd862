// `-f folded`: maps keyed by stacks in the collapsed ("folded") format that flamegraph.pl,
// inferno, speedscope and Grafana/Pyroscope read: one line per path, `root;frame;leaf value`.
// Every other output of the run is text, and goes to a side channel (stderr) so that standard
// output holds folded lines only and can be piped into a flame graph tool as it is.
import type { MapSpec } from '../../model/program.js';
import type { Type } from '../../model/types.js';
import type { Frame } from '../symbols.js';
import type { Formatter, MapEntry, MapSnapshot, PrintOptions, Value } from './model.js';
import { textFormatter } from './text.js';
import { applyTop, average, bucketTotal, divisor, keyElementTypes, aggregateValue, normalizeInt, valueToText } from './values.js';

/** The suffixes stackcollapse-perf.pl's --kernel/--jit add, which flamegraph.pl colours by. */
export const KERNEL_SUFFIX = '_[k]';
export const JIT_SUFFIX = '_[j]';
/** The frame between a blocked stack and its waker's (BCC's offwaketime, flamegraph.pl). */
export const WAKER_SEPARATOR = '--';

/**
 * A frame name as the folded format can carry it: `;` separates frames, so it becomes `:`
 * (as stackcollapse-perf.pl does); line breaks and other control characters become a space.
 * Spaces stay: every reader takes the count after the LAST space of a line (C++ names need them).
 */
export function escapeFrame(name: string): string {
  const s = name.replace(/;/g, ':').replace(/[\x00-\x1f\x7f]/g, ' ');
  return s === '' ? '[unknown]' : s;
}

/**
 * The folded name of one symbolized frame: the function without `+offset`; unnamed user frames
 * as `[module]` (the file's base name, as perf does), else `[unknown]`; kernel frames end in
 * `_[k]` and JIT frames (perf-PID.map) in `_[j]`.
 */
export function foldedFrameName(frame: Frame): string {
  const module = frame.kind !== 'kernel' && frame.module ? `[${frame.module.slice(frame.module.lastIndexOf('/') + 1)}]` : '[unknown]';
  const name = escapeFrame(frame.symbol ?? module);
  return frame.kind === 'kernel' ? name + KERNEL_SUFFIX : frame.kind === 'jit' ? name + JIT_SUFFIX : name;
}

const isStack = (t: Type) => t.kind === 'kstack' || t.kind === 'ustack';

/** Whether a map folds: its key has a kstack or ustack, and its value is a number. */
export function hasStacks(spec: MapSpec): boolean {
  if (!keyElementTypes(spec).some(isStack)) return false;
  return spec.kind !== 'scalar' || spec.valueType.kind === 'int' || spec.valueType.kind === 'bool';
}

/** One folded line: frames root first, leaf last, already escaped. */
export interface FoldedStack {
  readonly frames: readonly string[];
  readonly value: bigint;
}

/**
 * The path of one key. Key parts that are not stacks are root frames, in key order; then the
 * user stack, then the kernel stack, each root first (a sample reads: process, its code, the
 * system call, the kernel). A string part `--` starts a waker's segment (offwaketime): from there
 * the same path is drawn upside down — kernel stack leaf first, then user stack, then the other
 * parts — so the waker's stack stands on the blocked one, leaf to leaf, as in BCC's offwaketime.
 * Stacks arrive leaf first (the kernel's order), each frame already named by foldedFrameName.
 */
export function foldKey(types: readonly Type[], key: readonly Value[]): string[] {
  const segments: { roots: string[]; user: string[]; kernel: string[] }[] = [{ roots: [], user: [], kernel: [] }];
  types.forEach((t, i) => {
    const v = key[i] ?? 0n;
    const seg = segments[segments.length - 1]!;
    if (isStack(t)) {
      const rootFirst = (Array.isArray(v) ? (v as readonly Value[]) : []).map(String).reverse();
      (t.kind === 'kstack' ? seg.kernel : seg.user).push(...rootFirst);
    } else if (t.kind === 'string' && v === WAKER_SEPARATOR) {
      segments.push({ roots: [], user: [], kernel: [] });
    } else {
      seg.roots.push(escapeFrame(valueToText(t, v, 'key')));
    }
  });
  return segments.flatMap((s, i) => {
    const path = [...s.roots, ...s.user, ...s.kernel];
    return i === 0 ? path : [WAKER_SEPARATOR, ...path.reverse()];
  });
}

/** How equal paths combine: counts and sums add, min and max keep the extreme, avg re-averages. */
interface Accumulator { value: bigint; count: bigint }

function entryValue(spec: MapSpec, e: MapEntry): Accumulator {
  const v = e.value;
  switch (v.kind) {
    case 'avg': return { value: v.total, count: v.count };
    case 'stats': return { value: v.count, count: v.count };
    case 'hist': case 'lhist': return { value: bucketTotal(v.buckets), count: 1n };
    case 'tseries': return { value: v.points.at(-1)?.value ?? 0n, count: 1n };
    case 'scalar': return { value: normalizeInt(spec.valueType, v.value), count: 1n };
    default: return { value: aggregateValue(spec, e), count: 1n };
  }
}

/**
 * The folded stacks of a map whose stacks were decoded with foldedFrameName: equal paths merged,
 * in path order (as stackcollapse writes them). Values: count, sum, min, max and integer values
 * as they are; avg the average; hist, lhist and stats the number of values recorded.
 */
export function foldMap(snapshot: MapSnapshot): FoldedStack[] {
  const { spec } = snapshot;
  const types = keyElementTypes(spec);
  const merged = new Map<string, { frames: string[]; acc: Accumulator }>();
  for (const e of snapshot.entries) {
    const frames = foldKey(types, e.key ?? []);
    if (frames.length === 0) frames.push('[unknown]');
    const id = frames.join(';');
    const add = entryValue(spec, e);
    const seen = merged.get(id);
    if (!seen) {
      merged.set(id, { frames, acc: add });
    } else if (spec.kind === 'min' || spec.kind === 'max') {
      if (spec.kind === 'min' ? add.value < seen.acc.value : add.value > seen.acc.value) seen.acc = add;
    } else {
      seen.acc = { value: seen.acc.value + add.value, count: seen.acc.count + add.count };
    }
  }
  return [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, m]) => ({ frames: m.frames, value: spec.kind === 'avg' ? average(m.acc.count, m.acc.value) : m.acc.value }));
}

/** The folded lines of stacks, each `frame;frame;leaf value\n`. */
export function foldedText(stacks: readonly FoldedStack[]): string {
  let out = '';
  for (const s of stacks) out += `${s.frames.join(';')} ${s.value}\n`;
  return out;
}

/** print(@m, top, div) of a stack map: the `top` largest paths, values divided by `div`. */
function foldedMapText(snapshot: MapSnapshot, options: PrintOptions = {}): string {
  const div = divisor(options.div);
  const stacks = foldMap(snapshot);
  const kept = options.top ? new Set(applyTop([...stacks].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)), options.top)) : undefined;
  return foldedText(stacks.filter((s) => !kept || kept.has(s)).map((s) => ({ frames: s.frames, value: s.value / div })));
}

/**
 * The `-f folded` formatter. Stack maps become folded lines (the return value, written to the
 * output); everything else — the attach message, printf, non-stack maps, warnings — is written
 * in bpftrace's text form to `side` (the CLI passes stderr) and returns nothing.
 */
export function createFoldedFormatter(side: (text: string) => void): Formatter & { readonly frameName: (f: Frame) => string } {
  const toSide = <A extends unknown[]>(f: (...args: A) => string) => (...args: A): string => {
    side(f(...args));
    return '';
  };
  return {
    frameName: foldedFrameName,
    attachedProbes: toSide(textFormatter.attachedProbes),
    printf: toSide(textFormatter.printf),
    time: toSide(textFormatter.time),
    value: toSide(textFormatter.value),
    map: (snapshot, options) => (hasStacks(snapshot.spec) ? foldedMapText(snapshot, options) : toSide(textFormatter.map)(snapshot, options)),
    join: toSide(textFormatter.join),
    cat: toSide(textFormatter.cat),
    system: toSide(textFormatter.system),
    exitSeparator: () => '',
    // Reports, not data of a flame graph: as text.
    testResult: textFormatter.testResult,
    benchResult: textFormatter.benchResult,
    lostEvents: toSide(textFormatter.lostEvents),
    helperError: toSide(textFormatter.helperError),
    helperErrorIsWarning: true,
    scriptMessage: toSide(textFormatter.scriptMessage),
  };
}
