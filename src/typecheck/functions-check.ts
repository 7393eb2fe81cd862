// Types of bpftrace's value functions (ksym, buf, join, ntop, strftime, kstack...): what each
// takes, what it returns, and the compile-time work some do (kaddr, uaddr, pton, cgroupid).
import { PT_REGS } from '../kernel/registers.js';
import { signalNumber } from '../kernel/signals.js';
import { statSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { Call, Expr } from '../model/ast.js';
import { error } from '../diagnostics/diagnostic.js';
import type { CheckContext } from './context.js';
import { JOIN_ARGS, JOIN_ARG_SIZE } from '../model/program.js';
import { NONE, UINT64, INT64, UINT8, str, typeName, type StackMode, type Type } from '../model/types.js';
import { checkPrintfArgs } from '../model/printf-format.js';

/** x86-64 `struct pt_regs` offsets, for reg("name"). */

/** Probe types whose context is (or starts with) a `struct pt_regs`. */
const PT_REGS_PROVIDERS = new Set(['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'profile', 'interval', 'software', 'hardware']);

const STACK_MODES: ReadonlySet<string> = new Set(['bpftrace', 'perf', 'raw']);

/** The most frames a stack can have (the kernel's perf_event_max_stack default). */
export const MAX_STACK_DEPTH = 127;

/** Compile-time values of calls that are constants (kaddr, uaddr, cgroupid, pton) and of sizeof. */

function literal(c: CheckContext, call: Call, e: Expr | undefined, what: string): string | undefined {
  if (e?.kind === 'StringLiteral') return e.value;
  if (e) c.expr(e);
  // str($N) is a literal too, as in bpftrace.
  const text = e?.kind === 'Call' && e.name === 'str' ? c.constants.get(e) : undefined;
  if (text instanceof Uint8Array) return Buffer.from(text).toString();
  c.report(error('E_ARG_TYPE', e?.span ?? call.span, `${call.name}() expects a string literal ${what}`));
  return undefined;
}

function isInt(t: Type): boolean {
  return t.kind === 'int' || t.kind === 'pointer' || t.kind === 'bool';
}

export function checkFunction(c: CheckContext, call: Call): Type {
  const args = call.args;
  const providers = new Set(c.targets.map((t) => t.provider));
  switch (call.name) {
    case 'ksym': {
      const t = c.expr(args[0]!);
      if (!isInt(t)) c.report(error('E_ARG_TYPE', args[0]!.span, `ksym() expects an integer address, got ${typeName(t)}`));
      return { kind: 'ksym' };
    }
    case 'usym': {
      const t = c.expr(args[0]!);
      if (!isInt(t)) c.report(error('E_ARG_TYPE', args[0]!.span, `usym() expects an integer address, got ${typeName(t)}`));
      return { kind: 'usym' };
    }
    case 'kaddr': {
      const name = literal(c, call, args[0], 'naming a kernel symbol');
      if (name === undefined) return UINT64;
      const address = c.kernel.kernelSymbols().find((s) => s.name === name)?.address;
      if (address === undefined) {
        c.report(error('E_SYMBOL', args[0]!.span, `Failed to resolve kernel symbol: ${name}`));
        return UINT64;
      }
      c.constants.set(call, address);
      return UINT64;
    }
    case 'uaddr': {
      const name = literal(c, call, args[0], 'naming a symbol');
      if (name === undefined) return UINT64;
      const uprobes = c.targets.filter((t) => t.provider === 'uprobe' || t.provider === 'uretprobe' || t.provider === 'usdt');
      if (uprobes.length === 0 || uprobes.length !== c.targets.length) {
        c.report(error('E_BUILTIN_CONTEXT', call.span, 'uaddr can only be used with u(ret)probes and usdt probes'));
        return UINT64;
      }
      const binary = c.kernel.resolveBinary(uprobes[0]!.parts[0] ?? '') ?? uprobes[0]!.parts[0] ?? '';
      // As bpftrace 0.17: only data (object) symbols resolve.
      const sym = c.kernel.elfSymbols(binary).find((s) => s.name === name && s.type === 'object');
      if (!sym) {
        c.report(error('E_SYMBOL', call.span, `Could not resolve symbol: ${binary}:${name}`));
        return UINT64;
      }
      c.constants.set(call, sym.address);
      return { kind: 'pointer', target: UINT8, userSpace: true };
    }
    case 'reg': {
      const name = literal(c, call, args[0], 'naming a register');
      const bad = c.targets.find((t) => !PT_REGS_PROVIDERS.has(t.provider));
      if (bad) c.report(error('E_BUILTIN_CONTEXT', call.span, `reg can not be used with "${bad.provider}" probes`));
      if (name !== undefined && !PT_REGS.has(name)) {
        c.report(error('E_ARG_TYPE', args[0]!.span, `'${name}' is not a valid register`,
          `registers: ${[...PT_REGS.keys()].join(', ')}`));
      }
      return UINT64;
    }
    case 'buf': {
      const t = c.expr(args[0]!);
      let size: number | undefined;
      if (args[1]) {
        const n = c.expr(args[1]);
        if (!isInt(n)) c.report(error('E_ARG_TYPE', args[1].span, `buf() length must be an integer, got ${typeName(n)}`));
        const k = c.constant(args[1]);
        size = k === undefined ? c.stringLength : Math.max(0, Math.min(Number(k), c.stringLength));
      } else if (t.kind === 'array') {
        size = Math.min(t.length * (t.element.kind === 'int' ? t.element.bits / 8 : 8), c.stringLength);
      } else {
        c.report(error('E_ARG_TYPE', call.span, `buf() expects a length argument for non-array type ${typeName(t)}`));
        size = 0;
      }
      if (!isInt(t) && t.kind !== 'string' && t.kind !== 'array') {
        c.report(error('E_ARG_TYPE', args[0]!.span, `buf() expects a pointer, an array or a string, got ${typeName(t)}`));
      }
      return { kind: 'buffer', size: Math.min(size, 255) };
    }
    case 'join': {
      const t = c.expr(args[0]!);
      if (!isInt(t)) c.report(error('E_ARG_TYPE', args[0]!.span, `join() expects a char ** pointer, got ${typeName(t)}`));
      let separator = ' ';
      if (args[1]) separator = literal(c, call, args[1], 'as its separator') ?? ' ';
      const fieldTypes = Array.from({ length: JOIN_ARGS }, () => str(JOIN_ARG_SIZE));
      c.addEvent(call, 'join', { separator, fieldTypes });
      return NONE;
    }
    case 'cat':
    case 'system': {
      const fmt = args[0]!;
      const argTypes = args.slice(1).map((a) => c.expr(a));
      if (fmt.kind !== 'StringLiteral') {
        c.report(error('E_ARG_TYPE', fmt.span, `${call.name}() needs a string literal as its format`));
        return NONE;
      }
      const problem = checkPrintfArgs(fmt.value, argTypes);
      if (problem) c.report(error('E_PRINTF', fmt.span, problem.message.replace(/^printf/, call.name)));
      c.addEvent(call, call.name, { format: fmt.value, fieldTypes: argTypes.map(storage) });
      return NONE;
    }
    case 'strftime': {
      const fmt = literal(c, call, args[0], 'as its format');
      const t = c.expr(args[1]!);
      if (!isInt(t)) c.report(error('E_ARG_TYPE', args[1]!.span, `strftime() expects an integer timestamp, got ${typeName(t)}`));
      return { kind: 'timestamp', format: fmt ?? '' };
    }
    case 'ntop': {
      const [first, second] = args;
      if (second) {
        const af = c.expr(first!);
        if (!isInt(af)) c.report(error('E_ARG_TYPE', first!.span, `ntop() expects an integer address family, got ${typeName(af)}`));
      }
      const a = second ?? first!;
      const t = c.expr(a);
      const ok = isInt(t) || (t.kind === 'array' && (sizeOfArray(t) === 4 || sizeOfArray(t) === 16))
        || (t.kind === 'string' && (t.size === 4 || t.size === 16));
      if (!ok) c.report(error('E_ARG_TYPE', a.span, `ntop() expects an integer or array argument, got ${typeName(t)}`));
      return { kind: 'inet' };
    }
    case 'pton': {
      const text = literal(c, call, args[0], 'holding an address');
      if (text === undefined) return NONE;
      let bytes: Uint8Array | undefined;
      if (isIPv4(text)) bytes = Uint8Array.from(text.split('.').map(Number));
      else if (isIPv6(text) && !text.includes('.')) bytes = ipv6Bytes(text);
      if (!bytes) {
        c.report(error('E_ARG_TYPE', call.span, `pton() expects a valid IPv4/IPv6 address, got ${text}`));
        return NONE;
      }
      c.constants.set(call, bytes);
      return { kind: 'array', element: UINT8, length: bytes.length };
    }
    case 'macaddr': {
      const t = c.expr(args[0]!);
      if (args[0]!.kind === 'StringLiteral') {
        c.report(error('E_ARG_TYPE', args[0]!.span, 'macaddr() does not support literal string arguments'));
      } else if (!isInt(t) && !((t.kind === 'array' || t.kind === 'string') && sizeOfArrayish(t) === 6)) {
        c.report(error('E_ARG_TYPE', args[0]!.span, 'macaddr() argument must be 6 bytes in size'));
      }
      return str(18);
    }
    case 'cgroupid': {
      const path = literal(c, call, args[0], 'holding a cgroup path');
      if (path === undefined) return UINT64;
      try {
        c.constants.set(call, statSync(path, { bigint: true }).ino);
      } catch (e) {
        c.report(error('E_CGROUP', args[0]!.span, `Failed to get cgroupid for path: "${path}": ${(e as NodeJS.ErrnoException).code}`));
      }
      return UINT64;
    }
    case 'path':
      args.forEach((a) => c.expr(a));
      c.report(error('E_UNAVAILABLE', call.span,
        "The path function can only be used with 'kfunc', 'kretfunc', 'iter' probes, which need BPF tracing programs (BTF trampolines); this kernel has none"));
      return NONE;
    case 'override':
      args.forEach((a) => c.expr(a));
      c.report(error('E_UNAVAILABLE', call.span, 'override can only be used with kprobes, and this kernel has no kprobes'));
      return NONE;
    case 'signal': {
      const a = args[0]!;
      if (a.kind === 'StringLiteral') {
        if (signalNumber(a.value) === undefined) c.report(error('E_ARG_TYPE', a.span, `${a.value} is not a valid signal`));
      } else {
        const t = c.expr(a);
        if (!isInt(t)) c.report(error('E_ARG_TYPE', a.span, `signal() expects a signal name or number, got ${typeName(t)}`));
        const n = c.constant(a);
        if (n !== undefined && (n < 1n || n > 64n)) c.report(error('E_ARG_TYPE', a.span, `sig must be between 1 and 64, got ${n}`));
      }
      const bad = [...providers].find((p) => !['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'profile', 'tracepoint', 'rawtracepoint', 'kfunc', 'kretfunc', 'software', 'hardware'].includes(p));
      if (bad) c.report(error('E_BUILTIN_CONTEXT', call.span, `signal can not be used with "${bad}" probes`));
      return NONE;
    }
    case 'uptr': case 'kptr': {
      // Marks where a pointer (or an integer address) points, overriding what the probe implies.
      const t = c.expr(args[0]!);
      if (t.kind !== 'int' && t.kind !== 'pointer') {
        c.report(error('E_ARG_TYPE', args[0]!.span, `${call.name}() expects a pointer or an integer, got ${typeName(t)}`));
        return INT64;
      }
      const target = t.kind === 'pointer' ? t.target : INT64;
      return call.name === 'uptr' ? { kind: 'pointer', target, userSpace: true } : { kind: 'pointer', target };
    }
    case 'bswap': {
      const t = c.expr(args[0]!);
      if (t.kind !== 'int') {
        c.report(error('E_ARG_TYPE', args[0]!.span, `bswap() expects an integer, got ${typeName(t)}`));
        return UINT64;
      }
      return t;
    }
    case 'strncmp': {
      const [a, b, n] = args;
      for (const x of [a!, b!]) {
        const t = c.expr(x);
        if (t.kind !== 'string') c.report(error('E_ARG_TYPE', x.span, `strncmp() expects a string, got ${typeName(t)}`));
      }
      c.expr(n!);
      const k = c.constant(n!);
      if (k === undefined || k < 0n) c.report(error('E_ARG_TYPE', n!.span, 'strncmp() expects a non-negative integer literal as its length'));
      return UINT64;
    }
    case 'strerror': {
      const t = c.expr(args[0]!);
      if (!isInt(t)) c.report(error('E_ARG_TYPE', args[0]!.span, `strerror() expects an errno value, got ${typeName(t)}`));
      return { kind: 'strerror' };
    }
    case 'strcontains': {
      for (const x of args) {
        const t = c.expr(x);
        if (t.kind !== 'string') c.report(error('E_ARG_TYPE', x.span, `strcontains() expects a string, got ${typeName(t)}`));
      }
      return UINT64;
    }
    case 'kstack':
    case 'ustack': {
      let mode: StackMode = 'bpftrace';
      let depth = MAX_STACK_DEPTH;
      for (const [i, a] of args.entries()) {
        if (a.kind === 'Identifier' && i === 0) {
          if (a.name === 'build_id') c.report(error('E_ARG_TYPE', a.span, 'the build_id stack mode (bpftrace 0.26) is not supported yet', 'raw prints the addresses'));
          else if (!STACK_MODES.has(a.name)) c.report(error('E_ARG_TYPE', a.span, `${a.name} is not a stack mode (bpftrace, perf or raw)`));
          else mode = a.name as StackMode;
          continue;
        }
        c.expr(a);
        const n = c.constant(a);
        if (n === undefined) c.report(error('E_ARG_TYPE', a.span, `${call.name}() expects an integer literal as its depth`));
        else if (n < 1n || n > BigInt(MAX_STACK_DEPTH)) c.report(error('E_ARG_TYPE', a.span, `${call.name}() depth must be from 1 to ${MAX_STACK_DEPTH}`));
        else depth = Number(n);
      }
      return { kind: call.name, depth, mode };
    }
    default:
      args.forEach((a) => c.expr(a));
      return NONE;
  }
}

function storage(t: Type): Type {
  if (t.kind === 'int') return t.signed ? INT64 : UINT64;
  if (t.kind === 'bool') return UINT64;
  return t;
}

function sizeOfArray(t: Extract<Type, { kind: 'array' }>): number {
  return t.length * (t.element.kind === 'int' ? t.element.bits / 8 : 8);
}

function sizeOfArrayish(t: Type): number {
  return t.kind === 'array' ? sizeOfArray(t) : t.kind === 'string' ? t.size : 0;
}

function ipv6Bytes(text: string): Uint8Array {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const a = parse(head);
  const b = parse(tail);
  const groups = tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 0xff; });
  return out;
}
