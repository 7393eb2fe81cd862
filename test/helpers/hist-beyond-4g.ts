// bpftrace 0.17 put every hist() value from 2^31 up in [2G, 4G) and printed that bucket's JSON
// bounds as C `int`s (-2147483648, 0); tracelet buckets up to 2^63 and prints 64-bit bounds, as
// bpftrace does since 0.20 (README, "Differences"). Its capture 02_hist has a map of such values,
// @big (hist(5000000000) and hist(1099511627776)), and extra/c a value in [2G, 4G): this is what
// tracelet prints for them instead.

/** 02_hist's @big as tracelet prints it, in text. */
const BIG_TEXT = [
  '@big: ',
  '[4G, 8G)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
  ...['[8G, 16G)', '[16G, 32G)', '[32G, 64G)', '[64G, 128G)', '[128G, 256G)', '[256G, 512G)', '[512G, 1T)']
    .map((label) => `${label.padEnd(16)}${'0'.padStart(8)} |${' '.repeat(52)}|`),
  '[1T, 2T)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
].join('\n');

/** ...and in JSON. */
const BIG_JSON = `{"type": "hist", "data": {"@big": [${[32, 33, 34, 35, 36, 37, 38, 39, 40]
  .map((p) => `{"min": ${2n ** BigInt(p)}, "max": ${2n ** BigInt(p + 1) - 1n}, "count": ${p === 32 || p === 40 ? 1 : 0}}`).join(', ')}]}}`;

/** A capture's expected output as tracelet prints it: 02_hist's @big, and [2G, 4G)'s JSON bounds. */
export function withHistBeyond4G(name: string, format: 'text' | 'json', expected: string): string {
  if (format === 'text') {
    return name === '02_hist'
      ? expected.replace('@big: \n[2G, 4G)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|', BIG_TEXT)
      : expected;
  }
  const bounds = expected.replaceAll('{"min": -2147483648, "max": 0, ', '{"min": 2147483648, "max": 4294967295, ');
  return name === '02_hist'
    ? bounds.replace('{"type": "hist", "data": {"@big": [{"min": 2147483648, "max": 4294967295, "count": 2}]}}', BIG_JSON)
    : bounds;
}
