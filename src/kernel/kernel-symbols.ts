// The kernel's symbols for naming addresses (kstack, ksym, flame graphs). Reading /proc/kallsyms
// costs ~40 ms of kernel time each run (the kernel formats its 120k+ lines one by one), but the
// core kernel's text neither moves nor changes until a reboot: its symbols are kept in tracelet's
// cache (`kallsyms-BOOT_ID.bin`), written by the first run of a boot that reads the file and
// mapped by the later ones. Addresses outside the core kernel's text (modules, BPF programs,
// trampolines, which come and go) are named from /proc/kallsyms, read then.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepNewest, readCacheFile, storeCacheFile } from './cache-files.js';
import { Kallsyms, type SymbolHit } from './kallsyms.js';

/** What names kernel addresses: the whole /proc/kallsyms, or the cached core with it behind. */
export interface KernelSymbolLookup {
  lookup(address: bigint): SymbolHit | undefined;
  /** Reads what lookups will need now (before probes run: see Session.attach). */
  prepare(): void;
}

/** This boot and kernel, as the cache entry's key; undefined where they cannot be read. */
function bootKey(): { boot: string; key: string } | undefined {
  try {
    const read = (name: string) => readFileSync(`/proc/sys/kernel/${name}`, 'latin1').trim();
    const boot = read('random/boot_id');
    if (!/^[0-9a-f-]+$/.test(boot)) return undefined;
    return { boot, key: `${boot}\0${read('osrelease')}\0${read('version')}` };
  } catch {
    return undefined;
  }
}

export class KernelSymbols implements KernelSymbolLookup {
  /** /proc/kallsyms, once read (null: could not be). */
  private full?: Kallsyms | null;
  /** The entry this run stored, if it stored one. */
  private stored?: string;

  private constructor(
    private readonly core: Kallsyms | undefined,
    private readonly readFull: () => Kallsyms | undefined,
    /** Where to store the core symbols once /proc/kallsyms has been read (no entry was usable). */
    private readonly store?: { readonly dir: string; readonly file: string; readonly key: string },
  ) {}

  /**
   * The kernel's symbols, from the cache in `cacheDirectory` where it holds this boot's (none:
   * the cache is neither read nor written, as with --no-cache). `read` reads /proc/kallsyms.
   */
  static open(cacheDirectory?: string, read: () => Kallsyms | undefined = () => Kallsyms.read()): KernelSymbols {
    const id = cacheDirectory === undefined ? undefined : bootKey();
    if (!id || cacheDirectory === undefined) return new KernelSymbols(undefined, read);
    const file = join(cacheDirectory, `kallsyms-${id.boot}.bin`);
    const bytes = readCacheFile(file);
    const core = bytes && Kallsyms.fromCache(bytes, id.key);
    return new KernelSymbols(core, read, core ? undefined : { dir: cacheDirectory, file, key: id.key });
  }

  /** Whether the core kernel's symbols came from the cache. */
  get cached(): boolean {
    return this.core !== undefined;
  }

  /** Where the symbols come from, for -v. */
  describe(): string {
    if (this.core) return 'kernel symbols: the core kernel\'s from the cache, others from /proc/kallsyms';
    if (this.stored) return `kernel symbols: /proc/kallsyms, the core kernel's stored in ${this.stored}`;
    return `kernel symbols: /proc/kallsyms (${this.store ? 'could not be stored' : 'no cache'})`;
  }

  prepare(): void {
    if (this.core) return;
    this.fullTable()?.prepare();
  }

  lookup(address: bigint): SymbolHit | undefined {
    if (this.core?.covers(address)) return this.core.lookup(address);
    return this.fullTable()?.lookup(address);
  }

  private fullTable(): Kallsyms | undefined {
    if (this.full === undefined) {
      try {
        this.full = this.readFull() ?? null;
      } catch {
        this.full = null;
      }
      if (this.full && this.store) this.save(this.full, this.store);
    }
    return this.full ?? undefined;
  }

  /** Stores this boot's entry and removes those of earlier boots. Failures only cost the next run time. */
  private save(k: Kallsyms, store: { dir: string; file: string; key: string }): void {
    const bytes = k.toCache(store.key);
    if (!bytes || !storeCacheFile(store.file, bytes)) return;
    this.stored = store.file;
    keepNewest(store.dir, /^kallsyms-.*\.bin$/, 1);
  }
}
