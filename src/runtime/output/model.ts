// What the runtime hands to the formatters: decoded, per-CPU-combined values with their types.
// Formatters are pure functions from these to text; they never touch the kernel.
import type { MapSpec } from '../../model/program.js';
import type { Type } from '../../model/types.js';
import type { DumpRows } from '../native.js';
import type { Frame } from '../symbols.js';

/**
 * A decoded value of a given Type:
 * - int, pointer, bool: bigint (any bit pattern; formatters normalize it to the type's width and
 *   signedness, so both `-1n` and `0xffn` are fine for an int8 holding -1)
 * - string, ksym, usym, username, inet: string (cut at the first NUL; a `\0` is also honoured)
 * - timestamp (strftime()): string, already formatted by the runtime
 * - buffer (buf()): Uint8Array of the raw bytes; formatters escape them as bpftrace does
 *   (`ab\x01\xff`; printf `%rx`/`%rh` need the raw bytes). A string is accepted too and is then
 *   taken as already escaped.
 * - tuple, record: Value[] (one per element / field); array: Value[] (one per element)
 * - kstack/ustack: string[] of resolved frames, innermost first, without indentation or newline.
 *   Mode `bpftrace`: `vfs_read+5`; mode `perf`: `ffffffff814b2b2d vfs_read+5` (hex address, a
 *   space, the symbol; for ustack also ` (/path/to/module)`); mode `raw`: the hex address; mode
 *   `build_id`: `<build id> 0x<file offset>`, or the hex address for a file without one. The
 *   formatters add bpftrace's layout (a leading newline, 8 spaces of indent for values, 4 for map
 *   keys, a tab in perf mode, a newline after each frame). An empty array prints as nothing (what
 *   bpftrace prints when the stack id lookup fails, e.g. kstack in a uprobe).
 *
 * Text: all strings are ordinary JS strings (kernel bytes decoded as UTF-8); the formatters return
 * JS strings that the writer encodes as UTF-8. JSON escaping reproduces bpftrace's byte-wise
 * escaper on the UTF-8 bytes (`é` becomes `\uffffffc3\uffffffa9`, as bpftrace 0.17 prints it).
 */
export type Value = bigint | string | Uint8Array | readonly Value[];

export interface TypedValue {
  readonly type: Type;
  readonly value: Value;
}

/**
 * The combined value of one map entry, by map kind (per-CPU values already combined).
 *
 * count/sum/min/max: the final value (min and max as the real minimum / maximum, not bpftrace's
 * internal `0xffffffff - v` encoding). Signedness: count is unsigned; sum/min/max follow the
 * `signed` flag of the map's aggregation value type (signed when unknown).
 *
 * hist: `buckets[i]` is the count of bucket i, indexed as bpftrace computes it since 0.20
 * (`createLog2Function` in codegen_llvm.cpp):
 *     value < 0                 -> 0        printed `(..., 0)`
 *     value == 0                -> 1        printed `[0]`
 *     value >= 1                -> 2 + log2(value), where log2 is computed by testing shifts of
 *                                  32, 16, 8, 4, 2, 1 bits in turn (`if (v >= 1 << s) { v >>= s; l += s; }`),
 *                                  so it is at most 62: index 2 = `[1]`, 3 = `[2, 4)`, 4 = `[4, 8)`,
 *                                  ..., 33 = `[2G, 4G)`, ..., 64 = `[4E, 8E)`. (0.17 had no step of
 *                                  32: every value >= 2^31 landed in 33.)
 * The array may be longer (e.g. 66 counters); trailing zero buckets are never printed, and a
 * bucket index k >= 3 always means [2^(k-2), 2^(k-1)). See `histBucketIndex` in hist.ts.
 *
 * lhist(value, min, max, step): with n = (max - min) / step (integer division), bpftrace 0.17
 * (`createLinearFunction`) computes
 *     value < min               -> 0                        printed `(..., min)`
 *     value > max               -> 1 + n                    printed `[max, ...)`
 *     otherwise                 -> 1 + (value - min) / step  (integer division)
 * so value == max (and, when step does not divide max - min, the top partial bucket) also lands
 * in 1 + n, the `[max, ...)` bucket. Index k in 1..n is `[min + (k-1)*step, min + k*step)`.
 * The array needs n + 2 counters (more are allowed and ignored). See `lhistBucketIndex`.
 */
export type MapValue =
  | { readonly kind: 'scalar'; readonly value: Value }
  | { readonly kind: 'count' | 'sum' | 'min' | 'max'; readonly value: bigint }
  /** avg and stats: count and total; the average is total / count (integer division, as bpftrace). */
  | { readonly kind: 'avg' | 'stats'; readonly count: bigint; readonly total: bigint }
  | { readonly kind: 'hist' | 'lhist'; readonly buckets: readonly bigint[] }
  /** tseries: the latest epoch (time / interval) of each slot that holds one and its value, by epoch. */
  | { readonly kind: 'tseries'; readonly points: readonly TseriesPoint[] };

export interface TseriesPoint {
  readonly epoch: bigint;
  readonly value: bigint;
}

export interface MapEntry {
  /**
   * Decoded key elements (one per tuple element of `spec.keyType`, or a single element when the
   * key type is not a tuple), or undefined for a map with no key. Give entries in the order the
   * kernel iterates them (bpf_get_next_key): ties in bpftrace's sort keep that order.
   */
  readonly key?: readonly Value[];
  readonly value: MapValue;
  /** The key's bytes as the kernel holds them, when asked for (exporters read stack ids from them). */
  readonly rawKey?: Buffer;
}

/** A map's entries as the kernel's dump gave them: keys and (per-CPU) values concatenated. */
export interface RawDump {
  readonly count: number;
  readonly keys: Buffer;
  readonly values: Buffer;
  readonly cpus: number;
  /** NativeAddon.renderDump of this dump (the Session's addon). */
  readonly render: (rows: DumpRows, write: (bytes: Uint8Array) => void) => void;
}

export interface MapSnapshot {
  readonly spec: MapSpec;
  readonly entries: readonly MapEntry[];
  /** The kernel's dump the entries come from: large count()/sum() maps print from it (typed-dump.ts). */
  readonly raw?: RawDump;
}

/** print(@m, top, div) */
export interface PrintOptions {
  readonly top?: number;
  readonly div?: number;
}

/** A BPF helper failure reported at run time (bpftrace -k / -kk). */
export interface HelperError {
  /** Helper name without the `bpf_` prefix, e.g. `map_update_elem`. */
  readonly helper: string;
  /** The helper's return value, e.g. -7. */
  readonly retcode: number;
  /** `stdin` for -e programs, else the script path (as bpftrace prints it). */
  readonly file: string;
  /** 1-based line and columns of the call; endColumn is exclusive (bpftrace prints `L:C-E`). */
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  /** The source line the call is on (shown under the warning in text mode). */
  readonly sourceLine: string;
}

/** A place in the script, as errorf() and warnf() name it: `stdin:1:9-24`, or `stdin:1-3` over several lines. */
export interface ScriptLocation {
  /** `stdin` for -e programs, else the script path (or the imported file's). */
  readonly file: string;
  /** 1-based; endColumn is exclusive. */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  /** The source lines from `line` to `endLine`. */
  readonly lines: readonly string[];
}

/** What errorf() (an error) or warnf() (a warning) printed, and where it was called (bpftrace 0.2x). */
export interface ScriptMessage {
  readonly severity: 'error' | 'warning';
  /** The format applied to the arguments, as printf prints it. */
  readonly text: string;
  /** The call, then each macro call it was expanded from, innermost first. */
  readonly locations: readonly ScriptLocation[];
}

/**
 * One output format (text or JSON). Each method returns the exact text to write, newlines
 * included; the caller decides where it goes.
 */
/** How one test: probe ran under --test. */
export interface TestOutcome {
  readonly name: string;
  readonly passed: boolean;
  /** The kernel's run time of the probe. */
  readonly durationNs: number;
  /** What it printed: shown only when it failed. */
  readonly output: string;
}

/** How one bench: probe ran under --bench. */
export interface BenchOutcome {
  readonly name: string;
  /** The kernel's average time of one run. */
  readonly averageNs: number;
  readonly iterations: number;
}

export interface Formatter {
  attachedProbes(count: number): string;
  /**
   * --test: the report of the last of `results` (one per test run so far, in order) of the tests
   * `names`; the first opens the report, the last closes it with a summary. `color`: ANSI colours.
   */
  testResult(names: readonly string[], results: readonly TestOutcome[], color: boolean): string;
  /** --bench: one bench's row; `first` also prints the table's head, sized for every name of `names`. */
  benchResult(names: readonly string[], result: BenchOutcome, first: boolean): string;
  printf(text: string): string;
  time(text: string): string;
  /** print() of a non-map value. */
  value(v: TypedValue): string;
  /** print(@m) while running, and each map at exit (maps in name order: see sortMapNames). */
  map(snapshot: MapSnapshot, options?: PrintOptions): string;
  /**
   * map() of a map at exit as bytes, in pieces each valid only during the `write` call, when
   * that is cheaper (a large count()/sum() map, typed-dump.ts: no map-sized string made and then
   * encoded back to bytes); false, with nothing written, when map() must print it.
   */
  writeMap?(snapshot: MapSnapshot, write: (bytes: Uint8Array) => void): boolean;
  /**
   * map() of a map at exit in pieces, in order, made as its entries are formatted (a map of
   * thousands of stacks is never one string); formats without it are printed through map().
   */
  mapPieces?(snapshot: MapSnapshot, emit: (piece: string) => void): void;
  /** join(): the joined text, without the trailing newline. */
  join(text: string): string;
  /** cat(): the file's text as read. */
  cat(text: string): string;
  /** system(): the command's output as read. */
  system(text: string): string;
  /** Text between the end of the run and the maps printed at exit (`\n\n` in 0.17, both formats). */
  exitSeparator(): string;
  lostEvents(count: number): string;
  helperError(error: HelperError): string;
  /** The text of helperError() is a warning (text), which --no-warnings drops, as bpftrace; not a record (JSON). */
  readonly helperErrorIsWarning?: boolean;
  /** errorf()/warnf(): the message at its place in the script (text: bpftrace's log lines, which the CLI's formatter writes to stderr). */
  scriptMessage(message: ScriptMessage): string;
  /**
   * How this format names a frame of a stack in a map key (`-f folded`). When set, key stacks
   * are decoded through Resolver.frames() and named with it instead of by their stack mode.
   */
  readonly frameName?: (frame: Frame) => string;
}
