// What the start-up snapshot runs while it is made (src/cli/snapshot.ts), so that a run finds the
// code of its common path compiled: V8 compiles a function on its first call, and the snapshot
// keeps what was compiled by then. Nothing here touches the kernel, the native addons or a file
// outside the package, and nothing it makes is kept but the compiled code. A run of a tracepoint
// one-liner compiled ~220 of tracelet's functions and ~170 of Node's first: ~10 ms of its CPU.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compile } from '../compile/compile.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { parseTracepointFormat } from '../kernel/tracefs.js';
import { decodeMap, spreadBuckets, valueBytes } from '../runtime/decode.js';
import { createFormatter } from '../runtime/output/index.js';
import { keyElementTypes } from '../runtime/output/values.js';
import { compileRecordPrintf } from '../runtime/printf-record.js';
import { Resolver } from '../runtime/symbols.js';
import type { MapSpec } from '../model/program.js';

/** A kernel with one tracepoint (its format in tracefs's words: a string, an int, a long) and nothing else. */
function kernelWithOneTracepoint(): KernelInfo {
  const format = parseTracepointFormat(`name: sys_enter_openat
ID: 782
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:long ret;\toffset:32;\tsize:8;\tsigned:1;
`, 'syscalls', 'sys_enter_openat');
  const known = (category: string, event: string) => category === 'syscalls' && event === 'sys_enter_openat';
  return {
    ensureTracefs: () => ({ mounted: true }), listTracepoints: () => ['syscalls:sys_enter_openat'], hasTracepoint: known,
    tracepointFormat: (category, event) => (known(category, event) ? format : undefined),
    tracepointId: (category, event) => (known(category, event) ? format.id : undefined), listRawTracepoints: () => [],
    kernelType: () => undefined, kernelSymbols: () => [], elfSymbols: () => [], usdtProbes: () => [], resolveBinary: () => undefined,
    hasFeature: () => false, possibleCpus: () => 2,
  };
}

/** The type checker and code generator on the common statements, and the printing of their maps. */
export function warmCompileAndPrint(): void {
  const cpus = 2;
  const result = compile({
    source: 'BEGIN { printf("%d %s %s\\n", pid, comm, str("x")); @c[comm, tid] = count(); @h = hist(2); @l = lhist(3, 0, 10, 1); }'
      + ' tracepoint:syscalls:sys_enter_openat /args->dfd != 0/ { printf("%s %d\\n", str(args->filename), args->ret); @r = hist(args->ret); @bytes[comm] = sum(args->ret); }'
      + ' profile:hz:99 /pid != 1/ { @k[kstack, ustack] = count(); @s = sum(nsecs); $x = @s; if ($x > 1) { delete(@s); } }'
      + ' interval:s:1 { time(); print(@c); clear(@h); exit(); } END { @a = avg(1); @m = max(2); @st = stats(3); }',
    object: false,
  }, kernelWithOneTracepoint());
  // Loudly: a warm-up that stopped at an error would leave most of the path cold, silently.
  if (!result.generated) throw new Error(`the start-up snapshot's warm-up program does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  const formatters = [createFormatter('text'), createFormatter('json')];
  // Each printf's record (zeroed) read and formatted, as the Session does with the ring's records.
  const resolver = new Resolver();
  for (const spec of result.program?.events ?? []) {
    if (spec.kind !== 'printf') continue;
    const text = compileRecordPrintf(spec, resolver)({ buf: Buffer.alloc(spec.size), base: 0 });
    for (const formatter of formatters) formatter.printf(text);
  }
  // Each map printed, text and JSON, with one entry whose every 8-byte word is 1 (a hist with a
  // count in each bucket); not maps of stacks, which need symbols.
  const stacked = (spec: MapSpec) => [...keyElementTypes(spec), spec.valueType].some((t) => t.kind === 'kstack' || t.kind === 'ustack');
  for (const stored of result.program?.maps.values() ?? []) {
    if (stacked(stored)) continue;
    const values = Buffer.alloc(valueBytes(stored, cpus));
    for (let i = 0; i + 8 <= values.length; i += 8) values[i] = 1;
    const read = { count: 1, keys: Buffer.alloc(Math.max(stored.keySize, 1)), values };
    const { spec, dump } = stored.bucketsInValue ? spreadBuckets(stored, read, cpus) : { spec: stored, dump: read };
    const entries = decodeMap(spec, dump.count, dump.keys, dump.values, cpus);
    for (const formatter of formatters) {
      if (formatter.mapPieces) formatter.mapPieces({ spec, entries }, () => {});
      else formatter.map({ spec, entries });
    }
  }
}

/**
 * Compiles the methods (and constructor) of classes whose code runs only against the kernel,
 * which making the snapshot must not touch (the Session's load, attach, run, stop and print): V8
 * compiles a whole function on its first call, however little of it runs, so each is called once
 * with a `this` and arguments that throw as soon as they are touched, and stops there.
 */
export function compileMethods(classes: readonly (abstract new (...args: never[]) => unknown)[]): void {
  const touched = new Error('compile only');
  const stop = (): never => {
    throw touched;
  };
  const poison: unknown = new Proxy(() => {}, {
    get: stop, set: stop, has: stop, apply: stop, construct: stop, deleteProperty: stop, defineProperty: stop,
    getPrototypeOf: stop, ownKeys: stop, getOwnPropertyDescriptor: stop,
  });
  const args = [poison, poison, poison, poison, poison];
  // One that returns (or throws) without touching them did run: loudly, the snapshot would hold
  // whatever it did.
  const call = (what: string, run: () => unknown) => {
    let result: unknown;
    try {
      result = run();
    } catch (e) {
      if (e === touched) return;
      throw e;
    }
    // An async method rejects instead.
    if (!(result instanceof Promise)) throw new Error(`compileMethods: ${what} ran without touching its this or arguments`);
    result.catch(() => {});
  };
  for (const cls of classes) {
    call(`new ${cls.name}()`, () => Reflect.construct(cls, args));
    for (const target of [cls.prototype as object, cls]) {
      for (const name of Object.getOwnPropertyNames(target)) {
        if (name === 'constructor' || name === 'prototype' || name === 'length' || name === 'name') continue;
        const d = Object.getOwnPropertyDescriptor(target, name)!;
        for (const fn of [d.value, d.get, d.set]) {
          if (typeof fn === 'function') call(`${cls.name}.${name}`, () => Reflect.apply(fn as (...a: unknown[]) => unknown, poison, args));
        }
      }
    }
  }
}

/** Node's file, path, URL, buffer and timer functions that a run calls, on the package's own files. */
export function warmNodeInternals(file: string): void {
  const path = realpathSync(file);
  // And the path functions.
  existsSync(join(dirname(path), basename(path)));
  statSync(path, { bigint: true });
  readFileSync(path, 'latin1').length;
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(16);
  readSync(fd, buf, 0, 16, 0);
  fstatSync(fd);
  closeSync(fd);
  fileURLToPath(pathToFileURL(path).href);
  const parts = Buffer.concat([buf.subarray(0, 8), Buffer.from('tracelet', 'latin1')]);
  parts.writeBigUInt64LE(1n, 0);
  parts.readBigUInt64LE(0) + BigInt(parts.readUInt32LE(8) + parts.readInt32LE(8));
  parts.toString('latin1', 8).length;
  process.hrtime.bigint();
  process.cpuUsage();
  clearInterval(setInterval(() => {}, 1000));
  clearTimeout(setTimeout(() => {}, 1000));
  setImmediate(() => {});
}
