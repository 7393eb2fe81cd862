// Prepared runs, Node's side (the launcher's is src/launcher/prepared.c, whose comment tells the
// whole story). A run the launcher could carry out itself leaves an entry that lists the steps of
// Session.load() and Session.attach() for it; the next run of the same command line finds its
// probes attached when Node starts, checks that the entry is byte for byte the one this run would
// write, and adopts the kernel objects the launcher hands over.
import { closeSync, fstatSync, readSync, statSync, writeSync } from 'node:fs';
import type { NativeAddon, NativeObject } from './native.js';

/** One step of a prepared run, in the order the launcher takes them (Session.preparedSteps()). */
export type PreparedStep =
  | { readonly kind: 'program'; readonly name: string; readonly type: string }
  /** A map the run reads once loaded: handed over by this name (libbpf's own name of a global is cut to 15 bytes). */
  | { readonly kind: 'map'; readonly map: string }
  | { readonly kind: 'max-entries'; readonly map: string; readonly entries: number }
  | { readonly kind: 'fill'; readonly map: string; readonly key: Buffer; readonly value: Buffer }
  /** The run's values map and its slots of: start ns, cpid, pid namespace device, inode. */
  | { readonly kind: 'run-values'; readonly map: string; readonly slots: readonly [number, number, number, number] }
  | { readonly kind: 'stopped'; readonly map: string; readonly byExit: bigint }
  | { readonly kind: 'begin'; readonly program: string }
  | { readonly kind: 'tracepoint'; readonly program: string; readonly category: string; readonly event: string }
  | { readonly kind: 'raw-tracepoint'; readonly program: string; readonly event: string }
  /** Every process's uprobe at a file offset; a uretprobe; a USDT probe's semaphore (0: none). */
  | { readonly kind: 'uprobe'; readonly program: string; readonly path: string; readonly offset: bigint; readonly retprobe: boolean; readonly semaphoreOffset: bigint };

/** A prepared run: what the launcher checks, loads, does and prints. */
export interface PreparedRun {
  /** The launcher's key material (TRACELET_LAUNCH_KEY), compared whole. */
  readonly key: Buffer;
  /**
   * The files the program came from, with their identities (fileIdentity()) when they were read;
   * the files its uprobes are in are added, with their identities now.
   */
  readonly files: readonly { readonly path: string; readonly identity: string }[];
  readonly object: Buffer;
  readonly steps: readonly PreparedStep[];
  /** What the run prints once attached (`Attaching N probes...`), on standard output. */
  readonly attachedText: string;
}

/** The record tags of an entry (src/launcher/prepared.c has the same list). */
const TAG = {
  key: 1, file: 2, object: 3, program: 4, 'max-entries': 5, fill: 6, 'run-values': 7, stopped: 8,
  begin: 9, tracepoint: 10, 'raw-tracepoint': 11, print: 12, map: 13, uprobe: 14,
} as const;
const MAGIC = Buffer.from('TLRUN3\n\0', 'latin1');

/** A file as the launcher identifies it: device, inode, size, modification time in ns; `-` if missing. */
export function fileIdentity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return '-';
  }
}

class Writer {
  private readonly parts: Buffer[] = [];
  str(s: string): this { return this.bytes(Buffer.from(`${s}\0`, 'utf8')); }
  u8(n: number): this { return this.bytes(Buffer.of(n)); }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return this.bytes(b);
  }
  u64(n: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return this.bytes(b);
  }
  sized(b: Buffer): this { return this.u32(b.length).bytes(b); }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  done(): Buffer { return Buffer.concat(this.parts); }
}

function stepPayload(step: PreparedStep): Buffer {
  const w = new Writer();
  switch (step.kind) {
    case 'program': return w.str(step.name).str(step.type).done();
    case 'map': return w.str(step.map).done();
    case 'max-entries': return w.str(step.map).u32(step.entries).done();
    case 'fill': return w.str(step.map).sized(step.key).sized(step.value).done();
    case 'run-values': return step.slots.reduce((acc, slot) => acc.u32(slot), w.str(step.map)).done();
    case 'stopped': return w.str(step.map).u64(step.byExit).done();
    case 'begin': return w.str(step.program).done();
    case 'tracepoint': return w.str(step.program).str(step.category).str(step.event).done();
    case 'raw-tracepoint': return w.str(step.program).str(step.event).done();
    case 'uprobe': return w.str(step.program).str(step.path).u64(step.offset).u8(step.retprobe ? 1 : 0).u64(step.semaphoreOffset).done();
  }
}

/** The bytes of an entry: the magic, then records of a tag byte, a u32 length and the payload. */
export function encodePreparedRun(run: PreparedRun): Buffer {
  const w = new Writer().bytes(MAGIC);
  const record = (tag: number, payload: Buffer) => w.u8(tag).sized(payload);
  record(TAG.key, run.key);
  const targets = [...new Set(run.steps.flatMap((s) => (s.kind === 'uprobe' ? [s.path] : [])))];
  const files = [...run.files, ...targets.map((path) => ({ path, identity: fileIdentity(path) }))];
  for (const file of files) record(TAG.file, new Writer().str(file.path).str(file.identity).done());
  record(TAG.object, run.object);
  for (const step of run.steps) record(TAG[step.kind], stepPayload(step));
  if (run.attachedText) record(TAG.print, new Writer().u32(1).sized(Buffer.from(run.attachedText, 'utf8')).done());
  return w.done();
}

/**
 * What the launcher handed over (TRACELET_PREPARED): the entry it loaded, the socket to it, and
 * the fds of the loaded programs and of the maps the run reads. The launcher attaches the probes
 * once this process has started, and keeps the links until it ends.
 */
export interface Handover {
  readonly entryFd: number;
  readonly socketFd: number;
  /** When the launcher had loaded the object (monotonic ns). */
  readonly loadedNs: bigint;
  readonly programs: ReadonlyMap<string, number>;
  readonly maps: ReadonlyMap<string, number>;
}

/** What a prepared run prints once attached: the text of its print record ('' if none). */
export function announcedText(entry: Buffer): string {
  for (let at = MAGIC.length; at + 5 <= entry.length;) {
    const length = entry.readUInt32LE(at + 1);
    // The payload: the fd (u32), the text's length (u32), the text.
    if (entry[at] === TAG.print) return entry.subarray(at + 13, at + 13 + entry.readUInt32LE(at + 9)).toString('utf8');
    at += 5 + length;
  }
  return '';
}

/** What the launcher set for this run: where its prepared run is (or goes), and what it handed over. */
export interface Launch {
  readonly key: Buffer;
  readonly entry: string;
  readonly handover?: Handover;
}

/**
 * Takes the launcher's variables out of the environment (the commands tracelet starts must not
 * see them) and says what they hold. Called once, first thing.
 */
export function takeLaunch(env: NodeJS.ProcessEnv = process.env): Launch | undefined {
  const { TRACELET_LAUNCH_KEY: key, TRACELET_LAUNCH_ENTRY: entry, TRACELET_PREPARED: prepared } = env;
  delete env.TRACELET_LAUNCH_KEY;
  delete env.TRACELET_LAUNCH_ENTRY;
  delete env.TRACELET_PREPARED;
  const handover = prepared ? parseHandover(prepared) : undefined;
  if (!key || !/^([0-9a-f]{2})+$/.test(key) || !entry) {
    if (handover) releaseHandover(handover);
    return undefined;
  }
  return { key: Buffer.from(key, 'hex'), entry, ...(handover ? { handover } : {}) };
}

function parseHandover(text: string): Handover | undefined {
  const fields = new Map<string, string>();
  const programs = new Map<string, number>();
  const maps = new Map<string, number>();
  for (const item of text.split(' ')) {
    const at = item.lastIndexOf('=');
    if (at < 0) return undefined;
    const name = item.slice(0, at);
    const value = item.slice(at + 1);
    if (name.startsWith('prog:')) programs.set(name.slice(5), Number(value));
    else if (name.startsWith('map:')) maps.set(name.slice(4), Number(value));
    else fields.set(name, value);
  }
  const entryFd = Number(fields.get('entry'));
  const socketFd = Number(fields.get('socket'));
  const loaded = fields.get('loaded') ?? '';
  const fds = [entryFd, socketFd, ...programs.values(), ...maps.values()];
  if (!fds.every((fd) => Number.isInteger(fd) && fd >= 0) || !/^\d+$/.test(loaded)) return undefined;
  return { entryFd, socketFd, programs, maps, loadedNs: BigInt(loaded) };
}

/** The fds of a handover that hold kernel objects. */
function kernelFds(h: Handover): number[] {
  return [...h.programs.values(), ...h.maps.values()];
}

/** The entry the launcher carried out, as it read it. */
export function handedEntry(h: Handover): Buffer {
  const size = fstatSync(h.entryFd).size;
  const bytes = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = readSync(h.entryFd, bytes, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return bytes.subarray(0, got);
}

/**
 * Waits for the launcher to have run BEGIN and attached every probe: when it did (monotonic ns),
 * or undefined if it could not (it has released everything; the run loads afresh). Throws if the
 * launcher has gone.
 */
export function awaitAttached(h: Handover): bigint | undefined {
  const status = Buffer.alloc(9);
  let got = 0;
  while (got < 1 || (status[0] === 0x41 && got < 9)) {
    const n = readSync(h.socketFd, status, got, status.length - got, null);
    if (n === 0) throw new Error('the launcher has gone');
    got += n;
  }
  return status[0] === 0x41 ? status.readBigUInt64LE(1) : undefined;
}

/** Frees what a handover holds, and has the launcher detach what it attached: the run loads afresh. */
export function releaseHandover(h: Handover): void {
  tell(h, 'X');
  for (const fd of [...kernelFds(h), h.entryFd]) {
    try { closeSync(fd); } catch { /* already closed */ }
  }
}

/**
 * Tells the launcher that this process's signal handlers are in place: from now on it forwards
 * the signals it receives (and those it held). False if the launcher has gone (killed before it
 * could make Node die with it): then the run must end.
 */
export function signalReady(h: Handover | undefined): boolean {
  if (!h) return true;
  const told = tell(h, 'R');
  try { closeSync(h.socketFd); } catch { /* closed */ }
  return told;
}

function tell(h: Handover, message: 'R' | 'X'): boolean {
  try {
    return writeSync(h.socketFd, message) === 1;
  } catch {
    return false;
  }
}

/** The loaded object the launcher made, as Session uses one loaded here. */
export class AdoptedObject implements NativeObject {
  readonly programs: readonly string[];
  private closed = false;

  constructor(private readonly handover: Handover, private readonly addon: NativeAddon) {
    this.programs = [...handover.programs.keys()];
    // Kept from the commands this run starts (system(), -c): they must not hold the probes.
    addon.closeOnExec(kernelFds(handover));
    try { closeSync(handover.entryFd); } catch { /* closed */ }
  }

  programFd(name: string): number {
    const fd = this.handover.programs.get(name);
    if (fd === undefined) throw new Error(`the prepared run has no program '${name}'`);
    return fd;
  }

  /** Not known for an adopted program; -v, which shows it, never adopts one. */
  programInstructions(): number {
    return 0;
  }

  mapFd(name: string): number {
    return this.handover.maps.get(name) ?? -1;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of [...this.handover.programs.values(), ...this.handover.maps.values()]) {
      try { this.addon.closeFd(fd); } catch { /* closed */ }
    }
  }
}
