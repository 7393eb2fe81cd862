// The maps of a generated module, declared as libbpf's BTF-defined maps: one global per map in
// the `.maps` section, its type described by debug info (from which LLVM emits BTF), and code
// that takes the global's address, which libbpf relocates to the map it creates at load. The
// object is complete without a kernel: nothing in it depends on a run (no map fds).
import type { Expr } from '../model/ast.js';
import { walk } from '../model/walk.js';
import type { MapSpec, TypedProgram } from '../model/program.js';
import { alignUp } from '../model/types.js';
import {
  COUNTERS_MAP, EVENTS_MAP, globalMapName, MAP_TYPE_IDS, type MapType, PROCESSES_RING_MAP, PROCESSES_SEEN_MAP, READ_FAILURES_MAP, RUN_VALUES_MAP, SCRATCH_MAP, STACK_BUFFER_MAP,
  STACK_IDS_MAP, stackMaps, STACKS_MAX, STOPPED_MAP,
} from '../model/object-layout.js';
import { arrayType, i64, i8p, ptr, type IrValue, type ModuleBuilder } from './ir/builder.js';

const BPF_F_NO_PREALLOC = 1;

/** A map as the object declares it. The kernel names it by the first 15 characters of `symbol`. */
export interface MapDefinition {
  readonly symbol: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** Hash maps only: allocate entries on use (BPF_F_NO_PREALLOC). */
  readonly noPrealloc?: boolean;
}

/**
 * The processes remembered as announced (their mappings read as they first record a ustack): an
 * LRU map, so a long run keeps announcing new processes; one forgotten is announced again.
 */
export const PROCESSES_SEEN_MAX = 8192;

const FIXED = [
  EVENTS_MAP, COUNTERS_MAP, READ_FAILURES_MAP, STOPPED_MAP, RUN_VALUES_MAP, STACK_BUFFER_MAP, STACK_IDS_MAP, SCRATCH_MAP, PROCESSES_SEEN_MAP, PROCESSES_RING_MAP, 'tl_sys_enter', 'tl_sys_exit',
];

/**
 * The object's symbol of each script map: `tl_` and its name, which the kernel shows cut to 15
 * characters (`tl_averylongmap`). Two maps whose names would collide (`@` and `@map`, or `@events`
 * and the ring buffer) get a numbered suffix.
 */
function mapSymbols(maps: Iterable<string>, stacks: Iterable<string>): Map<string, string> {
  const taken = new Set([...FIXED, ...stacks]);
  const symbols = new Map<string, string>();
  for (const name of maps) {
    const base = `tl_${name.replace(/[^A-Za-z0-9_]/g, '') || 'map'}`;
    let symbol = base;
    for (let n = 1; taken.has(symbol); n++) symbol = `${base}_${n}`;
    taken.add(symbol);
    symbols.set(name, symbol);
  }
  return symbols;
}

function scriptMapDefinition(spec: MapSpec, symbol: string): MapDefinition {
  return {
    symbol, type: spec.bpfType, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries,
    noPrealloc: !spec.preallocate,
  };
}

/** The fields of a map's BTF definition. */
function definitionFields(map: MapDefinition): [string, number][] {
  const fields: [string, number][] = [['type', MAP_TYPE_IDS[map.type]]];
  // A ring buffer has no key or value; libbpf refuses sizes for it.
  if (map.keySize > 0) fields.push(['key_size', map.keySize]);
  if (map.valueSize > 0) fields.push(['value_size', map.valueSize]);
  fields.push(['max_entries', map.maxEntries]);
  if (map.noPrealloc && map.type.endsWith('hash')) fields.push(['map_flags', BPF_F_NO_PREALLOC]);
  return fields;
}

/**
 * A per-CPU array with an entry per program that uses it, for bytes that would not fit the
 * 512-byte BPF stack (a program may interrupt another, never itself: each has its own entry).
 * Declared by ModuleMaps.finish(), sized by what the programs took: `shared`, every use of a
 * program starts at its entry's start (the largest use sizes it); `regions`, each use has its own.
 */
export class ProgramScratch {
  /** The bytes each program has taken, by program (its entry: the order of first use). */
  private readonly taken = new Map<string, number>();

  constructor(private readonly symbol: string, private readonly uses: 'shared' | 'regions') {}

  get used(): boolean {
    return this.taken.size > 0;
  }

  /** `bytes` of the program's entry: its slot (key) and the offset in it. */
  take(program: string, bytes: number): { slot: number; offset: number } {
    const had = this.taken.get(program);
    const slot = had === undefined ? this.taken.size : [...this.taken.keys()].indexOf(program);
    const offset = this.uses === 'shared' ? 0 : had ?? 0;
    this.taken.set(program, this.uses === 'shared' ? Math.max(had ?? 0, bytes) : offset + alignUp(bytes, 8));
    return { slot, offset };
  }

  definition(): MapDefinition {
    return {
      symbol: this.symbol, type: 'percpu_array', keySize: 4, valueSize: Math.max(8, ...this.taken.values()),
      maxEntries: Math.max(1, this.taken.size),
    };
  }

  /** The map's address as code uses it (its global is declared by finish(), after the code). */
  address(): IrValue {
    const type = arrayType(definitionFields(this.definition()).length, i64);
    return { type: i8p, ref: `bitcast (${type}* @${this.symbol} to i8*)` };
  }
}

/** The maps a module declares, each once, in the order first declared. */
export class ModuleMaps {
  private readonly defined = new Map<string, { map: MapDefinition; type: string }>();
  private readonly words = new Map<string, number>();
  /** The symbol of each script map (`@x` → `tl_x`). */
  readonly symbols: ReadonlyMap<string, string>;

  /**
   * Declares the maps every program of the module may use: the script's (each exists in the
   * kernel, used by code or not: it is printed at exit, as bpftrace does), the ring buffer, the
   * globals (the counters, `counterSlots` of them, the stopped flag, the last stack id) and the
   * stack tables. The others are declared by their first use, the stack buffer by finish().
   */
  constructor(private readonly module: ModuleBuilder, program: TypedProgram, counterSlots: number) {
    const stacks = stackMaps(program);
    this.symbols = mapSymbols(program.maps.keys(), stacks.flatMap((s) => s.tables.map((t) => t.symbol)));
    for (const spec of program.maps.values()) this.ref(scriptMapDefinition(spec, this.symbols.get(spec.name)!));
    this.ref({ symbol: EVENTS_MAP, type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: ringBufferBytes(program) });
    this.globalWords(COUNTERS_MAP, counterSlots);
    this.globalWords(STOPPED_MAP, 1);
    for (const { symbol, keyBytes } of stacks.flatMap((s) => s.tables)) {
      this.ref({ symbol, type: 'hash', keySize: keyBytes, valueSize: 8, maxEntries: STACKS_MAX, noPrealloc: true });
    }
    if (stacks.length > 0) this.globalWords(STACK_IDS_MAP, 1);
  }

  /** Where stacks are written before their lookup: every stack of a program at the start of its entry. */
  readonly stackBuffer = new ProgramScratch(STACK_BUFFER_MAP, 'shared');
  /** Where large structs and arrays are read whole: each read a region of its program's entry. */
  readonly scratch = new ProgramScratch(SCRATCH_MAP, 'regions');

  /** Declares what the programs' code referred to and could only be sized once they were all written. */
  finish(): void {
    for (const s of [this.stackBuffer, this.scratch]) if (s.used) this.ref(s.definition());
  }

  /** Whether code has referred to the map (ref()). */
  has(symbol: string): boolean {
    return this.defined.has(symbol);
  }

  get definitions(): readonly MapDefinition[] {
    return [...this.defined.values()].map((d) => d.map);
  }

  /** Declares the map (the first time) and returns its address as code uses it. */
  ref(map: MapDefinition): IrValue {
    if (!this.defined.has(map.symbol)) {
      const fields = definitionFields(map);
      const type = arrayType(fields.length, i64);
      this.defined.set(map.symbol, { map, type });
      const debug = this.module.debug!.mapDefinition(map.symbol, fields);
      this.module.global(`@${map.symbol} = dso_local global ${type} zeroinitializer, section ".maps", align 8, !dbg !${debug}`);
    }
    return this.address(map.symbol);
  }

  /** Declares a global variable of `words` u64s, zeroed at load (see globalMapName). */
  private globalWords(symbol: string, words: number): void {
    const debug = this.module.debug!.globalWords(symbol, words);
    this.module.global(`@${symbol} = dso_local global [${words} x i64] zeroinitializer, section "${globalMapName(symbol)}", align 8, !dbg !${debug}`);
    this.words.set(symbol, words);
  }

  /** The address of word `index` of a global variable (declared by the constructor, or here of `size` words). */
  word(symbol: string, index: number, size?: number): IrValue {
    if (size !== undefined && !this.words.has(symbol)) this.globalWords(symbol, size);
    const words = this.words.get(symbol);
    if (words === undefined || index >= words) throw new Error(`internal error: no word ${index} of ${symbol}`);
    const type = arrayType(words, i64);
    return { type: ptr(i64), ref: `getelementptr inbounds (${type}, ${type}* @${symbol}, i64 0, i64 ${index})` };
  }

  /** The address of a map declared already. */
  address(symbol: string): IrValue {
    const defined = this.defined.get(symbol);
    if (!defined) throw new Error(`internal error: no map ${symbol} declared`);
    return { type: i8p, ref: `bitcast (${defined.type}* @${symbol} to i8*)` };
  }
}

/** Events a hot probe may send per second (printf on raw_syscalls under load: ~1M/s here). */
const HOT_EVENTS_PER_SECOND = 1_000_000;
/**
 * How long a ring holds that many: the pauses of the consumer it rides out. The longest is not the
 * collector thread's (it reads every millisecond or so, whatever JavaScript does) but a prepared
 * run's start: the launcher attaches before Node starts, and the ring holds every event until
 * Node's consumer does (~0.1 s). A 4 MiB ring (0.05 s) lost events there to an unpaced getppid
 * loop sending 2.5M printf records a second; 16 MiB lost none.
 */
const RING_SECONDS = 0.25;

/** The ring for events of BEGIN, END and interval probes only, which send a few records a run… */
const SLOW_RING_BYTES = 256 << 10;
/** … unless one of them loops: room for a loop's records (16k short printfs) until they are read. */
const SLOW_LOOPING_RING_BYTES = 1 << 20;

/**
 * The ring buffer's size from the rate and size of the events: when probes that can fire at a
 * high rate send events, room for 0.25 s of 1M/s of their largest record (16 MiB for a short
 * printf, at most 64 MiB); 256 KiB when only BEGIN, END and interval probes do, 1 MiB if one of
 * them has a loop. The ring is mapped, and resident, from the start (once: see ringbuf.cc).
 */
export function ringBufferBytes(program: TypedProgram): number {
  const slow = new Set(['BEGIN', 'END', 'self', 'interval', 'test']);
  const loops = new Set(['WhileStmt', 'ForStmt', 'ForRangeStmt', 'UnrollStmt']);
  let largest = 0;
  let slowLoop = false;
  for (const p of program.probes) {
    const hot = p.targets.some((t) => !slow.has(t.provider));
    walk(p.probe.body, (node) => {
      if (!hot && loops.has(node.kind)) slowLoop = true;
      const event = hot ? program.eventOf.get(node as Expr) : undefined;
      if (event && event.kind !== 'exit') largest = Math.max(largest, event.size);
    });
  }
  // (A record is at most a few hundred bytes: it is built on the 512-byte BPF stack.)
  if (largest === 0) return slowLoop ? SLOW_LOOPING_RING_BYTES : SLOW_RING_BYTES;
  const bytes = (8 + alignUp(largest, 8)) * HOT_EVENTS_PER_SECOND * RING_SECONDS; // 8: the ring's record header
  return Math.min(64 << 20, Math.max(16 << 20, 2 ** Math.ceil(Math.log2(bytes))));
}
