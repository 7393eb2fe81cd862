// tracefs: mounting it when a fresh machine has not, listing tracepoints, and parsing their
// `format` files into the fields `args->` sees.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Type } from '../model/types.js';
import type { DataLocInfo, TracepointField, TracepointFormat } from './kernel-info.js';

export const TRACEFS = '/sys/kernel/tracing';

/** Where tracefs is mounted now, from /proc/mounts (the standard place first), or undefined. */
export function findTracefs(): string | undefined {
  if (existsSync(`${TRACEFS}/events`)) return TRACEFS;
  let mounts = '';
  try {
    mounts = readFileSync('/proc/mounts', 'latin1');
  } catch {
    return undefined;
  }
  const points: string[] = [];
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'tracefs' && dir) points.push(dir.replace(/\\040/g, ' '));
  }
  // debugfs exposes tracefs again at /sys/kernel/debug/tracing.
  if (!points.length && existsSync('/sys/kernel/debug/tracing/events')) points.push('/sys/kernel/debug/tracing');
  return points.find((p) => existsSync(`${p}/events`));
}

export interface EnsureResult {
  /** Whether tracefs is usable after the call. */
  readonly mounted: boolean;
  /** Where it is mounted (when `mounted`). */
  readonly root?: string;
  /**
   * One line for the user. With `mounted: true` it says tracefs was mounted by us (informational;
   * absent when it was already there); with `mounted: false` it says why it could not be mounted.
   */
  readonly notice?: string;
}

/** Makes sure tracefs is mounted, mounting it at /sys/kernel/tracing with /bin/mount if needed. */
export function ensureTracefs(): EnsureResult {
  const root = findTracefs();
  if (root) return { mounted: true, root };
  try {
    execFileSync('/bin/mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message?: string; code?: string };
    const why = (err.stderr?.toString().trim() || err.code || err.message || 'unknown error').split('\n')[0]!
      .replace(/^mount: /, '');
    return { mounted: false, notice: `tracelet: cannot mount tracefs at ${TRACEFS} (${why}); tracepoints are unavailable` };
  }
  if (existsSync(`${TRACEFS}/events`)) {
    return { mounted: true, root: TRACEFS, notice: `tracelet: mounted tracefs at ${TRACEFS}` };
  }
  return { mounted: false, notice: `tracelet: mounted tracefs at ${TRACEFS} but it has no events directory` };
}

/** All tracepoints as `category:event`, sorted (from available_events, else the events/ tree). */
export function listTracepoints(root: string): string[] {
  let names: string[];
  try {
    names = readFileSync(`${root}/available_events`, 'latin1').split('\n').filter((l) => l.includes(':'));
  } catch {
    names = [];
    const events = `${root}/events`;
    for (const cat of readdirSync(events, { withFileTypes: true })) {
      if (!cat.isDirectory()) continue;
      for (const ev of readdirSync(`${events}/${cat.name}`, { withFileTypes: true })) {
        if (ev.isDirectory()) names.push(`${cat.name}:${ev.name}`);
      }
    }
  }
  return [...new Set(names)].sort();
}

/**
 * Whether `category:event` is a tracepoint, i.e. in available_events. The kernel gives an event
 * directory an `enable` file under the same condition as it lists the event there (the ftrace
 * category's format-only events have neither), and one stat is far cheaper than reading and
 * splitting the ~2000-line list on every compile.
 */
export function tracepointExists(root: string, category: string, event: string): boolean {
  const isName = (s: string) => s !== '' && s !== '.' && s !== '..' && !s.includes('/');
  return isName(category) && isName(event) && existsSync(`${root}/events/${category}/${event}/enable`);
}

/** Resolves a C type name (a typedef such as `loff_t`, or `struct file`) — BTF in practice. */
export type TypeResolver = (name: string) => Type | undefined;

/** The text of `events/<category>/<event>/<file>`, or undefined if there is no such tracepoint. */
function readEventFile(root: string, category: string, event: string, file: string): string | undefined {
  if (!/^[\w.-]+$/.test(category) || !/^[\w.-]+$/.test(event)) return undefined;
  try {
    return readFileSync(`${root}/events/${category}/${event}/${file}`, 'latin1');
  } catch {
    return undefined;
  }
}

/** Reads and parses `events/<category>/<event>/format`; undefined if there is no such tracepoint. */
export function readTracepointFormat(root: string, category: string, event: string, resolve?: TypeResolver): TracepointFormat | undefined {
  const text = readEventFile(root, category, event, 'format');
  return text === undefined ? undefined : parseTracepointFormat(text, category, event, resolve);
}

/** Reads `events/<category>/<event>/id`; undefined if there is no such tracepoint. */
export function readTracepointId(root: string, category: string, event: string): number | undefined {
  const id = Number(readEventFile(root, category, event, 'id'));
  return Number.isInteger(id) ? id : undefined;
}

type ParsedField = TracepointField & { readonly dataLoc?: DataLocInfo };

export function parseTracepointFormat(text: string, category: string, event: string, resolve?: TypeResolver): TracepointFormat {
  const idMatch = /^ID:\s*(\d+)/m.exec(text);
  const fields: ParsedField[] = [];
  const re = /^\s*field:([^;]*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(-?\d+);/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const declaration = m[1]!.trim();
    const offset = Number(m[2]);
    const size = Number(m[3]);
    const signed = m[4] === '1';
    const field = parseField(declaration, offset, size, signed, resolve);
    if (field && !field.name.startsWith('common_')) fields.push(field);
  }
  return { category, event, id: idMatch ? Number(idMatch[1]) : -1, fields };
}

const SIGNED_NAMES = new Set([
  'char', 'signed char', 'short', 'short int', 'signed short', 'int', 'signed', 'signed int', 'long', 'long int',
  'signed long', 'long long', 'long long int', 'signed long long', 's8', 's16', 's32', 's64', '__s8', '__s16',
  '__s32', '__s64', 'int8_t', 'int16_t', 'int32_t', 'int64_t', 'ssize_t', 'loff_t', 'off_t', 'time64_t', 'ktime_t',
]);
const UNSIGNED_NAMES = new Set([
  'unsigned char', 'unsigned short', 'unsigned short int', 'unsigned', 'unsigned int', 'unsigned long',
  'unsigned long int', 'unsigned long long', 'unsigned long long int', 'u8', 'u16', 'u32', 'u64', '__u8', '__u16',
  '__u32', '__u64', 'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t', 'size_t', 'bool', '_Bool', 'uint', 'ulong',
  'dev_t', 'gfp_t', 'umode_t', 'sector_t', 'ino_t',
]);

function intType(bytes: number, signed: boolean): Type {
  switch (bytes) {
    case 1: return { kind: 'int', bits: 8, signed };
    case 2: return { kind: 'int', bits: 16, signed };
    case 4: return { kind: 'int', bits: 32, signed };
    case 8: return { kind: 'int', bits: 64, signed };
    default: return { kind: 'array', element: { kind: 'int', bits: 8, signed: false }, length: bytes };
  }
}

/** Removes qualifiers that do not change the layout. */
function baseName(t: string): string {
  return t.replace(/\b(const|volatile|__user|__rcu|__iomem|__percpu|__force)\b/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Signedness of a scalar. Width always comes from `size:`. bpftrace 0.17 reads `int x` of size 8
 * (syscall arguments) as s64 and `pid_t`/`uid_t`/`gid_t`/`unsigned int` of size 8 as u64, whatever
 * the kernel's `signed:` says; C keywords decide, then the typedef's real type (BTF), then `signed:`.
 */
function scalarSigned(base: string, size: number, signedFlag: boolean, resolve?: TypeResolver): boolean {
  if (size === 8 && /^(pid_t|uid_t|gid_t)$/.test(base)) return false;
  if (base.startsWith('enum ')) return signedFlag;
  if (SIGNED_NAMES.has(base)) return true;
  if (UNSIGNED_NAMES.has(base)) return false;
  // The kernel's flag is right for fields of their own size; only widened fields (syscall
  // arguments are all `unsigned long`) need the typedef's real type, e.g. loff_t → signed.
  if (size !== 8 || signedFlag) return signedFlag;
  const t = resolve?.(base);
  if (t?.kind === 'int') return t.signed;
  return signedFlag;
}

/** The type a pointer in a format points at. */
function pointee(base: string, resolve?: TypeResolver): Type {
  if (base === 'void') return { kind: 'none' };
  if (base === 'char' || base === 'signed char') return { kind: 'int', bits: 8, signed: true };
  if (base === 'unsigned char') return { kind: 'int', bits: 8, signed: false };
  const m = /^(struct|union) (\w+)$/.exec(base);
  if (m) {
    const t = resolve?.(base);
    return { kind: 'record', name: base, size: t?.kind === 'record' ? t.size : 0, fields: [] };
  }
  const t = resolve?.(base);
  if (t) return t.kind === 'record' ? { ...t, fields: [] } : t;
  return { kind: 'none' };
}

/** Element type of an array or __data_loc array (`char` → int8). */
function elementType(base: string, bytes: number, resolve?: TypeResolver): Type {
  if (/^(struct|union) /.test(base)) {
    const t = resolve?.(base);
    return t ?? { kind: 'array', element: { kind: 'int', bits: 8, signed: false }, length: bytes };
  }
  return intType(bytes, scalarSigned(base, bytes, false, resolve));
}

function parseField(declaration: string, offset: number, size: number, signed: boolean, resolve?: TypeResolver): ParsedField | undefined {
  // __data_loc char[] name / __rel_loc u64[] name
  const loc = /^(__data_loc|__rel_loc)\s+(.+?)\s*\[\s*\]\s*(\w+)$/.exec(declaration);
  if (loc) {
    const base = baseName(loc[2]!);
    const elemBytes = base === 'char' || base.endsWith(' char') ? 1 : sizeGuess(base, resolve);
    return {
      name: loc[3]!, declaration, offset, size, signed,
      type: { kind: 'int', bits: 32, signed: false },
      dataLoc: { element: elementType(base, elemBytes, resolve), relative: loc[1] === '__rel_loc' },
    };
  }
  // T name[N]
  const arr = /^(.+?)\s*(\w+)\s*\[\s*([^\]]*)\]$/.exec(declaration);
  if (arr) {
    const base = baseName(arr[1]!);
    const name = arr[2]!;
    const n = Number(arr[3]);
    const length = Number.isInteger(n) && n > 0 ? n : 0;
    if (base === 'char' || base === 'signed char') return { name, declaration, offset, size, signed, type: { kind: 'string', size } };
    const elemBytes = length > 0 ? size / length : size;
    if (length === 0 || !Number.isInteger(elemBytes)) {
      return { name, declaration, offset, size, signed, type: { kind: 'array', element: intType(1, false), length: size } };
    }
    return { name, declaration, offset, size, signed, type: { kind: 'array', element: elementType(base, elemBytes, resolve), length } };
  }
  // T *name, T * const name, T **name
  const ptr = /^(.+?)((?:\s*\*\s*(?:const\s+)?)+)(\w+)$/.exec(declaration);
  if (ptr && ptr[2]!.includes('*')) {
    const base = baseName(ptr[1]!);
    const depth = (ptr[2]!.match(/\*/g) ?? []).length;
    let t: Type = pointee(base, resolve);
    for (let i = 0; i < depth; i++) t = { kind: 'pointer', target: t };
    return { name: ptr[3]!, declaration, offset, size, signed, type: t };
  }
  // T name
  const scalar = /^(.+?)\s+(\w+)$/.exec(declaration);
  if (!scalar) return undefined;
  const base = baseName(scalar[1]!);
  const name = scalar[2]!;
  if (/^(struct|union) /.test(base)) {
    const t = resolve?.(base);
    const type: Type = t?.kind === 'record' ? t : { kind: 'record', name: base, size, fields: [] };
    return { name, declaration, offset, size, signed, type };
  }
  const type = intType(size, scalarSigned(base, size, signed, resolve));
  // An `enum x` field keeps the enum's enumerators (BTF): printf's %s prints it by name (0.22+).
  const known = type.kind === 'int' && base.startsWith('enum ') ? resolve?.(base) : undefined;
  if (type.kind === 'int' && known?.kind === 'int' && known.enumerators) {
    return { name, declaration, offset, size, signed, type: { ...type, enumerators: known.enumerators } };
  }
  return { name, declaration, offset, size, signed, type };
}

function sizeGuess(base: string, resolve?: TypeResolver): number {
  const m = /(\d+)/.exec(base);
  if (m && /^(__)?[us]\d+$|^u?int\d+_t$/.test(base)) return Number(m[1]) / 8;
  const t = resolve?.(base);
  if (t?.kind === 'int') return t.bits / 8;
  if (/long long|long/.test(base)) return 8;
  if (/short/.test(base)) return 2;
  return 4;
}
