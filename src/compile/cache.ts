// The compile cache: LLVM's objects kept on disk, so the second run of a script skips LLVM (the
// slowest stage by far). Everything before LLVM runs every time (parse, type check, codegen: they
// read the kernel and the uprobe targets afresh and give the Session its metadata), and the key
// holds the IR LLVM is given, which alone decides the object. Beside it, so that nothing outside
// the IR can slip through, the key holds every compile option, the kernel's identity, the
// identity of each file a uprobe or USDT probe targets, tracelet's version and the build of the
// LLVM addon (tracelet_llvm.node). Entries are written whole or not at all (temporary file, then rename), checked on read
// (header, key, length, checksum), and the directory is kept under a size bound. The launcher's
// prepared runs (storePreparedRun) are kept in its launch/ directory the same way.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, utimesSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { addonPath, native } from '../runtime/native.js';
import { euid, keepNewest, ownDirectoryProblem, storeCacheFile, writeWhole } from '../kernel/cache-files.js';
import { sha256 } from '../kernel/digest.js';

export { cacheDir } from '../kernel/cache-files.js';

/** Raised when what an entry holds or how the key is made changes: older entries become misses. */
const FORMAT = 1;
const MAGIC = Buffer.from('TLOBJC\0\0', 'latin1');
/** magic, format, object length, key (sha256), checksum of the object (sha256). */
const HEADER_BYTES = MAGIC.length + 4 + 4 + 32 + 32;
/** Past this size, the least recently used entries are removed (README "Compile cache"). */
export const CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** Temporary files of runs that died between write and rename are removed after this long. */
const STALE_TEMP_MS = 60 * 60 * 1000;
/**
 * The directory is scanned for eviction at most this often (the modification time of its
 * `evicted` file says when a run last did): at the bound, ~8,000 entries, a scan (the addon's
 * evictOldest) costs a run ~25 ms, twice the rest of a cold run's compile. Between scans, what a
 * minute of runs stores may go past the bound.
 */
export const EVICT_INTERVAL_MS = 60 * 1000;

/** What the key is made of, beside tracelet's build. */
export interface CacheKeyInputs {
  /** The IR LLVM compiles. */
  readonly ir: string;
  /** Every compile option (source, parameters, -k, --unsafe, -p, limits...), as plain data. */
  readonly options: object;
  /** KernelInfo.identity(): release, build id, BTF, include directories. */
  readonly kernel: string;
  /** Files that uprobe and USDT probes attach to (their size, inode and time go into the key). */
  readonly targets: readonly string[];
}

/** What the cache did for one compile (for -v). */
export interface CacheUse {
  /** The object came from the cache: LLVM did not run. */
  readonly hit: boolean;
  /** The entry's file. */
  readonly file?: string;
  /** Why the cache was not used, or what was wrong with the entry found. */
  readonly note?: string;
}

/** tracelet's version and the LLVM addon that makes its objects, as one string. */
export function traceletBuild(version: string): string {
  const addon = addonPath('tracelet_llvm');
  return `${version}|${addon ? fileIdentity(addon) : 'no-addon'}`;
}

export class ObjectCache {
  /** Why the directory cannot be used (checked on first use); undefined while unchecked or usable. */
  private problem?: string;
  private checked = false;

  /** Objects compiled but not yet written (storeLater): written by storePending(). */
  private pending: { file: string; key: string; object: Buffer }[] = [];

  /**
   * `storeLater`: a miss's object is written when storePending() is called rather than as soon as
   * LLVM has made it. The CLI stores it once the run is over: ~1.3 ms (encode, checksum, write,
   * rename) that need not come between start and attached, and whose file syscalls must not come
   * after it either, where the user's own syscall probes would see them.
   */
  constructor(readonly dir: string, private readonly build: string, private readonly maxBytes = CACHE_MAX_BYTES,
    private readonly evictIntervalMs = EVICT_INTERVAL_MS, private readonly storeLater = false) {}

  /** The key of an object: sha256 over everything it depends on (see the file's comment). */
  key(inputs: CacheKeyInputs): string {
    // An option left out and one given as undefined are the same compile.
    const options = Object.entries(inputs.options).filter(([name, value]) => name !== 'object' && value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const targets = [...new Set(inputs.targets)].sort().map(fileIdentity);
    return sha256(JSON.stringify({ format: FORMAT, build: this.build, kernel: inputs.kernel, options, targets }), '\0', inputs.ir).toString('hex');
  }

  /** The cached object of `inputs`, or the one `compile` makes (then stored, now or by storePending()). */
  object(inputs: CacheKeyInputs, compile: () => Buffer): { object: Buffer; use: CacheUse } {
    if (!this.usable()) return { object: compile(), use: { hit: false, note: this.problem } };
    const key = this.key(inputs);
    const file = join(this.dir, `${key}.o`);
    const found = this.read(file, key);
    if (found.object) return { object: found.object, use: { hit: true, file } };
    const object = compile();
    if (this.storeLater) {
      this.pending.push({ file, key, object });
      return { object, use: { hit: false, file, note: found.note } };
    }
    const stored = this.write(file, key, object);
    return { object, use: { hit: false, file, note: found.note ?? stored } };
  }

  /** Writes the objects kept for later (storeLater); why one could not be, if one could not. */
  storePending(): string | undefined {
    let failed: string | undefined;
    for (const { file, key, object } of this.pending.splice(0)) failed = this.write(file, key, object) ?? failed;
    return failed;
  }

  /** Creates the directory if needed; refuses one that another user could write into. */
  private usable(): boolean {
    if (this.checked) return this.problem === undefined;
    this.checked = true;
    this.problem = ownDirectoryProblem(this.dir);
    return this.problem === undefined;
  }

  /** The entry's object if it is whole, ours and for this key. */
  private read(file: string, key: string): { object?: Buffer; note?: string } {
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return {};
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.uid !== euid()) return { note: `${file} is not a file of ours: replaced` };
      const bytes = Buffer.alloc(st.size);
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(fd, bytes, got, bytes.length - got, got);
        if (n === 0) break;
        got += n;
      }
      const object = decodeEntry(bytes.subarray(0, got), key);
      if (!object) return { note: `${file} was damaged: replaced` };
      try {
        // Used now: eviction removes the least recently used entries first.
        const now = new Date();
        utimesSync(file, now, now);
      } catch { /* read-only is fine */ }
      return { object };
    } catch {
      return {};
    } finally {
      closeSync(fd);
    }
  }

  /** Writes the entry whole and keeps the directory in bounds. */
  private write(file: string, key: string, object: Buffer): string | undefined {
    const failed = writeWhole(file, encodeEntry(key, object));
    if (failed) return `could not store ${file}: ${failed}`;
    this.evict(file);
    return undefined;
  }

  /**
   * Least recently used entries beyond the size bound, and stale temporary files, go (never
   * `keep`); at most once every evictIntervalMs.
   */
  private evict(keep: string): void {
    try {
      const marker = join(this.dir, 'evicted');
      const now = Date.now();
      if (this.evictIntervalMs > 0) {
        try {
          if (now - statSync(marker).mtimeMs < this.evictIntervalMs) return;
        } catch { /* never scanned */ }
        writeWhole(marker, Buffer.alloc(0));
      }
      // A hit touches its entry: the least recently modified are the least recently used.
      native().evictOldest(this.dir, '.o', this.maxBytes, basename(keep), STALE_TEMP_MS);
    } catch { /* another run may be evicting too: the next write tries again */ }
  }
}

/** Prepared runs kept in the launch directory; the least recently written beyond this go. */
const PREPARED_RUNS_MAX = 64;

/**
 * Stores a prepared run (src/runtime/prepared.ts) where the launcher looks for it (`entry`, in
 * `<cache>/launch/`), whole, in a directory of ours only (the launcher checks the same, as it
 * loads what it finds as root), and keeps the directory to PREPARED_RUNS_MAX entries. Failures
 * are silent: a prepared run is only ever a shortcut.
 */
export function storePreparedRun(entry: string, bytes: Buffer): void {
  if (storeCacheFile(entry, bytes)) keepNewest(dirname(entry), /\.run$/, PREPARED_RUNS_MAX);
}

function encodeEntry(key: string, object: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT, 8);
  header.writeUInt32LE(object.length, 12);
  Buffer.from(key, 'hex').copy(header, 16);
  sha256(object).copy(header, 48);
  return Buffer.concat([header, object]);
}

/** The object of an entry, or undefined if anything does not match. */
function decodeEntry(bytes: Buffer, key: string): Buffer | undefined {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, 8).equals(MAGIC)) return undefined;
  if (bytes.readUInt32LE(8) !== FORMAT || bytes.readUInt32LE(12) !== bytes.length - HEADER_BYTES) return undefined;
  if (!bytes.subarray(16, 48).equals(Buffer.from(key, 'hex'))) return undefined;
  const object = bytes.subarray(HEADER_BYTES);
  if (!sha256(object).equals(bytes.subarray(48, 80))) return undefined;
  return Buffer.from(object);
}

/** A file as the key sees it: path, device, inode, size and modification time (or `missing`). */
function fileIdentity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${path}|${st.dev}|${st.ino}|${st.size}|${st.mtimeNs}`;
  } catch {
    return `${path}|missing`;
  }
}

/** One line for -v: whether LLVM ran, and the cache entry read or written. */
export function describeCacheUse(use: CacheUse | undefined): string {
  if (!use) return 'object cache: off (--no-cache): compiled by LLVM';
  if (use.hit) return `object cache: hit, LLVM skipped: ${use.file}`;
  if (!use.file) return `object cache: not used (${use.note}): compiled by LLVM`;
  return `object cache: miss, compiled by LLVM${use.note ? ` (${use.note})` : ''}: ${use.file}`;
}
