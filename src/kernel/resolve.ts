// Resolving a uprobe/usdt target the way bpftrace 0.17 does: paths as they are; `libc`
// (`lib<name>` → an ld.so.cache entry `lib<name>.so*`, bcc's which_so); bare program names
// through PATH; with a pid, the files mapped by that process first. Unlike bpftrace we also
// accept an exact soname (`libc.so.6`), which libbpf resolves too.
import { accessSync, constants, readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ElfFile, isElfFile } from './elf.js';

export const LD_SO_CACHE = '/etc/ld.so.cache';
export const STANDARD_LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

export interface LdCacheEntry {
  /** The soname, e.g. `libc.so.6`. */
  readonly name: string;
  readonly path: string;
  readonly flags: number;
}

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const FLAG_ELF_LIBC6 = 0x0003;
const FLAG_X8664_LIB64 = 0x0300;
const FLAG_TYPE_MASK = 0x00ff;
const FLAG_REQUIRED_MASK = 0xff00;

/** Parses /etc/ld.so.cache (the glibc 2.x "new" format, alone or after the old one). */
export function parseLdCache(buf: Buffer): LdCacheEntry[] {
  const start = buf.indexOf(NEW_MAGIC, 0, 'latin1');
  if (start < 0 || start + 48 > buf.length) return [];
  const n = buf.readUInt32LE(start + 20);
  const out: LdCacheEntry[] = [];
  const str = (off: number) => {
    // String offsets in the new format are relative to its header.
    const at = start + off;
    const end = buf.indexOf(0, at);
    return buf.toString('utf8', at, end < 0 ? buf.length : end);
  };
  for (let i = 0; i < n; i++) {
    const o = start + 48 + i * 24;
    if (o + 24 > buf.length) break;
    out.push({ flags: buf.readInt32LE(o), name: str(buf.readUInt32LE(o + 4)), path: str(buf.readUInt32LE(o + 8)) });
  }
  return out;
}

/** x86-64 libc6 entries (what a 64-bit process would load). */
function isNativeEntry(e: LdCacheEntry): boolean {
  return (e.flags & FLAG_TYPE_MASK) === FLAG_ELF_LIBC6 && (e.flags & FLAG_REQUIRED_MASK) === FLAG_X8664_LIB64;
}

let ldCache: { mtimeMs: number; entries: LdCacheEntry[] } | undefined;

export function ldCacheEntries(path = LD_SO_CACHE): LdCacheEntry[] {
  try {
    const st = statSync(path);
    if (ldCache && ldCache.mtimeMs === st.mtimeMs) return ldCache.entries;
    const entries = parseLdCache(readFileSync(path)).filter(isNativeEntry);
    ldCache = { mtimeMs: st.mtimeMs, entries };
    return entries;
  } catch {
    return [];
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutable(p: string): boolean {
  if (!isFile(p)) return false;
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A library by `lib<name>` or exact soname: ld.so.cache, then the standard directories. */
export function findLibrary(name: string): string | undefined {
  const entries = ldCacheEntries();
  const exact = entries.find((e) => e.name === name);
  if (exact && isFile(exact.path)) return exact.path;
  if (!name.includes('.so')) {
    const prefix = `${name}.so`;
    const hit = entries.find((e) => e.name === prefix || e.name.startsWith(`${prefix}.`));
    if (hit && isFile(hit.path)) return hit.path;
  }
  for (const dir of STANDARD_LIB_DIRS) {
    if (name.includes('.so')) {
      if (isFile(`${dir}/${name}`)) return `${dir}/${name}`;
      continue;
    }
    // libc → libc.so.6 before the linker script libc.so
    for (const cand of [`${dir}/${name}.so.6`, `${dir}/${name}.so.0`, `${dir}/${name}.so.1`, `${dir}/${name}.so`]) {
      if (isFile(cand)) return cand;
    }
  }
  return undefined;
}

/** A program on PATH: the first executable ELF file of that name. */
export function findInPath(name: string, pathEnv = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): string | undefined {
  for (const dir of pathEnv.split(':')) {
    if (!dir) continue;
    const p = `${dir}/${name}`;
    if (isExecutable(p) && isElfFile(p)) return p;
  }
  return undefined;
}

/** Files mapped by a process, from /proc/PID/maps, in order of first appearance. */
export function mappedFiles(pid: number): string[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return [];
  }
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\S+ \S+ \S+ \S+ \d+\s+(\/.*)$/.exec(line);
    if (!m) continue;
    const p = m[1]!.replace(/ \(deleted\)$/, '');
    seen.add(p);
  }
  return [...seen];
}

/** Whether a mapped file is the one `name` means (`libc` ↔ libc.so.6 / libc-2.31.so; `bash` ↔ /usr/bin/bash). */
function mapMatches(path: string, name: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base === name) return true;
  if (name.startsWith('lib') && !name.includes('.so')) return base.startsWith(`${name}.so`) || base.startsWith(`${name}-`);
  return false;
}

/**
 * Resolves a uprobe/usdt target. Paths are taken as they are (through /proc/PID/root when a pid
 * is given and the path is not visible here); `lib…` names and sonames through ld.so.cache; other names through PATH. Returns
 * undefined when nothing matches.
 */
export function resolveBinary(name: string, pid?: number): string | undefined {
  if (pid !== undefined && (!name || /[*?]/.test(name))) return programOf(pid);
  if (!name) return undefined;
  if (name.includes('/')) {
    if (isFile(name)) return name;
    if (pid !== undefined && name.startsWith('/')) {
      // A process in another mount namespace: its files are visible through /proc/PID/root.
      const inNs = `/proc/${pid}/root${name}`;
      if (isFile(inNs)) return inNs;
    }
    return undefined;
  }
  if (pid !== undefined) {
    const mapped = mappedFiles(pid).find((p) => mapMatches(p, name));
    if (mapped) {
      if (isFile(mapped)) return mapped;
      const inNs = `/proc/${pid}/root${mapped}`;
      if (isFile(inNs)) return inNs;
    }
  }
  if (name.startsWith('lib') || name.includes('.so')) {
    const lib = findLibrary(name);
    if (lib) return lib;
  }
  return findInPath(name);
}

/** The program of process `pid` and every file it maps, through its root (see KernelInfo.processFiles). */
export function processFiles(pid: number): string[] {
  const program = programOf(pid);
  const root = `/proc/${pid}/root`;
  const mapped = mappedFiles(pid).map((p) => `${root}${p}`).filter((p) => p !== program && isFile(p));
  return [...(program ? [program] : []), ...mapped];
}

/**
 * The program process `pid` runs, through its root as bpftrace names it
 * (`/proc/PID/root/usr/bin/python3.11`), or `/proc/PID/exe` when its path cannot be read.
 */
export function programOf(pid: number): string | undefined {
  try {
    const path = `/proc/${pid}/root${readlinkSync(`/proc/${pid}/exe`)}`;
    if (isFile(path)) return path;
  } catch {
    // a kernel thread, or a process gone
  }
  return isFile(`/proc/${pid}/exe`) ? `/proc/${pid}/exe` : undefined;
}

/**
 * The libraries a binary loads (DT_NEEDED, recursively), found as the dynamic loader finds them:
 * the needing file's DT_RPATH (when it has no DT_RUNPATH), its DT_RUNPATH, ld.so.cache, the
 * standard directories ($ORIGIN expanded). Breadth-first, without repeats: the loader's symbol
 * search order. The traced processes' LD_LIBRARY_PATH is unknown here and not used.
 */
export function libraryDependencies(path: string): string[] {
  const order: string[] = [];
  const seen = new Set([path]);
  const queue = [path];
  while (queue.length > 0) {
    const file = queue.shift()!;
    let dyn;
    try {
      dyn = ElfFile.open(file).dynamic();
    } catch {
      continue;
    }
    const origin = dirname(file);
    const dirs = (dyn.runpath.length ? dyn.runpath : dyn.rpath).map((d) => d.replace(/\$(\{ORIGIN\}|ORIGIN)/g, origin));
    for (const name of dyn.needed) {
      const found = name.includes('/') ? (isFile(name) ? name : undefined)
        : dirs.map((d) => `${d}/${name}`).find(isFile) ?? findLibrary(name);
      if (!found || seen.has(found)) continue;
      seen.add(found);
      order.push(found);
      queue.push(found);
    }
  }
  return order;
}
