// What the runtime hands to the formatters: decoded, per-CPU-combined values with their types.
// Formatters are pure functions from these to text; they never touch the kernel.
import type { MapSpec, Type } from '../../typecheck/types.js';

/**
 * A decoded value of a given Type:
 * - int, pointer, bool, timestamp: bigint
 * - string, buffer (already escaped as bpftrace prints it), ksym, usym, username, inet: string
 * - tuple: Value[] (one per element)
 * - kstack/ustack: string[] of already-symbolized frames
 */
export type Value = bigint | string | readonly Value[];

export interface TypedValue {
  readonly type: Type;
  readonly value: Value;
}

/** The combined value of one map entry, by map kind. */
export type MapValue =
  | { readonly kind: 'scalar'; readonly value: Value }
  | { readonly kind: 'count' | 'sum' | 'min' | 'max'; readonly value: bigint }
  /** avg and stats: count and total; the average is total / count (integer division, as bpftrace). */
  | { readonly kind: 'avg' | 'stats'; readonly count: bigint; readonly total: bigint }
  /** hist: 66 log2 buckets as bpftrace indexes them; lhist: (max-min)/step + 3 buckets. */
  | { readonly kind: 'hist' | 'lhist'; readonly buckets: readonly bigint[] };

export interface MapEntry {
  /** Decoded key elements (one per tuple element), or undefined for a map with no key. */
  readonly key?: readonly Value[];
  readonly value: MapValue;
}

export interface MapSnapshot {
  readonly spec: MapSpec;
  readonly entries: readonly MapEntry[];
}

/** print(@m, top, div) */
export interface PrintOptions {
  readonly top?: number;
  readonly div?: number;
}

/**
 * One output format (text or JSON). Each method returns the exact text to write, newlines
 * included; the caller decides where it goes.
 */
export interface Formatter {
  attachedProbes(count: number): string;
  printf(text: string): string;
  time(text: string): string;
  /** print() of a non-map value. */
  value(v: TypedValue): string;
  /** print(@m) while running, and each map at exit. */
  map(snapshot: MapSnapshot, options?: PrintOptions): string;
  join(text: string): string;
  /** Text between the end of the run and the maps printed at exit (`\n\n` in 0.17, both formats). */
  exitSeparator(): string;
  lostEvents(count: number): string;
  helperError(message: string, line: number, column: number): string;
}
