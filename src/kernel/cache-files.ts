// tracelet's cache directory and its files: what the compile cache (src/compile/cache.ts) and the
// symbol caches (kernel-symbols.ts, elf-symbol-cache.ts) share. A run is root and loads or believes what it
// finds there, so only a directory and files of our own will do, and files are written whole or
// not at all (a temporary file, then rename), safe against runs writing at the same time.
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { symbolNatives } from './natives.js';

/** `TRACELET_CACHE_DIR`, else `$XDG_CACHE_HOME/tracelet`, else `~/.cache/tracelet`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRACELET_CACHE_DIR) return env.TRACELET_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec: a relative value is to be ignored.
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'tracelet');
}

export function euid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * mkdir -p, one directory at a time: Node's recursive mkdirSync loops forever where mkdir says
 * ENOENT under a directory that exists (XDG_CACHE_HOME=/proc: /proc/tracelet).
 */
function makeDirectories(dir: string): void {
  const parent = dirname(dir);
  if (parent !== dir && !existsSync(parent)) makeDirectories(parent);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * Creates `dir` if needed and says why it cannot hold what is loaded into the kernel as root, if
 * it cannot: only a directory of ours that nobody else can write into will do.
 */
export function ownDirectoryProblem(dir: string): string | undefined {
  try {
    // Looked at before any mkdir: on a directory that exists (every run but the first) mkdir
    // fails, and building Node's error for that cost a run ~0.5 ms.
    let st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) {
      makeDirectories(dir);
      st = lstatSync(dir);
    }
    if (!st.isDirectory()) return `${dir} is not a directory`;
    if (st.uid !== euid()) return `${dir} belongs to another user`;
    if ((st.mode & 0o022) !== 0) return `${dir} is writable by others`;
    return undefined;
  } catch (e) {
    return `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** Temporary files this process has made (with its pid, a name no other running process uses). */
let temporaries = 0;

/** Writes `file` whole or not at all (a temporary file beside it, then rename); why not, if not. */
export function writeWhole(file: string, bytes: Buffer): string | undefined {
  const temp = join(dirname(file), `.tmp-${process.pid}-${++temporaries}-${process.hrtime.bigint()}`);
  try {
    writeFileSync(temp, bytes, { flag: 'wx', mode: 0o600 });
    renameSync(temp, file);
    return undefined;
  } catch (e) {
    try { unlinkSync(temp); } catch { /* not written */ }
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/**
 * Opens `file` for reading if it is a regular file of ours (not a link), and calls `use` with its
 * descriptor and size; undefined if there is no such file. The descriptor is closed afterwards.
 */
export function withOwnFile<T>(file: string, use: (fd: number, size: number) => T): T | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    return st.isFile() && st.uid === euid() ? use(fd, st.size) : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * A cache file's bytes, if it is a file of ours: mapped when the runtime has provided mapFile
 * (only the pages used become resident), else read. Marked used (its time), for `keepNewest`.
 */
export function readCacheFile(file: string): Uint8Array | undefined {
  const bytes = withOwnFile(file, (fd, size) => {
    if (size === 0) return undefined;
    const native = symbolNatives();
    if (native) return new Uint8Array(native.mapFile(fd, size));
    const b = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, b, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return b;
  });
  if (bytes) {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch { /* read-only is fine */ }
  }
  return bytes;
}

/** Stores `file` whole in a directory of ours; false if it could not be. */
export function storeCacheFile(file: string, bytes: Buffer): boolean {
  return !ownDirectoryProblem(dirname(file)) && !writeWhole(file, bytes);
}

/** Removes all but the `keep` most recently used files of `dir` whose names `match`. */
export function keepNewest(dir: string, match: RegExp, keep: number): void {
  try {
    const files = readdirSync(dir).filter((n) => match.test(n)).map((n) => ({ file: join(dir, n), at: statSync(join(dir, n)).mtimeMs }));
    files.sort((a, b) => b.at - a.at);
    for (const old of files.slice(keep)) unlinkSync(old.file);
  } catch { /* another run is removing them too */ }
}
