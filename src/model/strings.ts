/*
 * Strings are bytes in C and in bpftrace's output. Here they are JS strings holding UTF-8 text,
 * with each byte that is not part of valid UTF-8 (a `\xff` escape, a kernel string of binary
 * data) kept as one lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"): stringBytes and
 * bytesToString convert between the two exactly, so such bytes are written out raw, as bpftrace does.
 */

/** The bytes of a string: UTF-8, except escaped bytes >= 0x80 (U+DC80..U+DCFF) taken raw. */
export function stringBytes(s: string): Buffer {
  if (!/[\udc80-\udcff]/.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.from([c - 0xdc00]));
    } else run += ch;
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** Bytes as a string: UTF-8 text, each byte of an invalid sequence as U+DC80..U+DCFF. */
export function bytesToString(b: Uint8Array): string {
  const bytes = Buffer.from(b.buffer, b.byteOffset, b.length);
  const text = bytes.toString('utf8');
  // Node decodes invalid bytes as U+FFFD: only then (or for a real U+FFFD) go byte by byte.
  if (!text.includes('\ufffd')) return text;
  let out = '';
  for (let i = 0; i < b.length; ) {
    const n = utf8SequenceLength(b, i);
    out += n > 0 ? bytes.toString('utf8', i, i + n) : String.fromCharCode(0xdc00 + b[i]!);
    i += Math.max(n, 1);
  }
  return out;
}

/** The length of the valid UTF-8 sequence at b[i] (1–4), or 0 if none starts there. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not valid UTF-8.
  const c1 = b[i + 1]!;
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
  return n;
}
