// Duration suffixes of integer literals (bpftrace 0.24+): `100ms`, `2s`, `1h` are nanoseconds.
// Shared by the lexer (literals in expressions) and probe expansion (`interval:1s`).

/** Nanoseconds per unit, as bpftrace 0.26 reads them (`m` is a minute). */
export const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

export const DURATION_SUFFIXES = Object.keys(DURATION_UNITS).join(', ');

/** `1_000ms` → 1000000000n; undefined when the text is not digits with a duration suffix. */
export function parseDuration(text: string): bigint | undefined {
  const m = /^([0-9][0-9_]*)([a-z]+)$/.exec(text);
  if (!m || m[1]!.endsWith('_')) return undefined;
  const unit = DURATION_UNITS[m[2]!];
  return unit === undefined ? undefined : BigInt(m[1]!.replace(/_/g, '')) * unit;
}
