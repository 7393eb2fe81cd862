// The checker of one probe at a time: scopes and variables, the type of every expression,
// map uses, events. typecheck() (check.ts) runs it over the program's probes.
import { targetNameBytes } from '../model/object-layout.js';
import { usdtArgs } from '../kernel/usdt-args.js';
import {
  mapName, variableKey, type AssignStmt, type Block, type Call, type Expr, type MapRef, type Probe, type Stmt, type TypeName, type Variable,
  type BinaryOp,
} from '../model/ast.js';
import type { Span } from '../model/span.js';
import { inTracedProcess } from '../model/providers.js';
import { error, warning, withNote, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { DwarfFunction, KernelInfo, TracepointFormat } from '../kernel/kernel-info.js';
import { ARG_REGS } from '../kernel/registers.js';
import { BUILTIN_VARIABLES, BUILTIN_VARIABLE_NAMES, builtinNamed, type BuiltinName } from '../model/builtins.js';
import { BUILTIN_FUNCTIONS, FUNCTION_NAMES, functionNamed, isAggregation } from '../model/functions.js';
import { CONSTANT_CALLS, FUNCTION_CHECKS } from './functions-check.js';
import { checkKfuncCalls } from './builtin-calls.js';
import { arrayCast } from './array-casts.js';
import { kernelArgs, resolveTypeName, unknownType } from './ctypes.js';
import { parameterValue } from './positional.js';
import type { EventKind, EventSpec, MapKind, ProbeTarget, VariableInfo } from '../model/program.js';
import {
  INT64, MAX_STACK_DEPTH, NONE, UINT64, sameType, sizeOf, storageType, str, tupleLayout, typeName, type RecordField, type StackMode, type Type,
} from '../model/types.js';
import { stringBytes } from '../model/strings.js';
import type { AggregationParams, CheckContext, CheckOptions, EventDetails } from './context.js';
import { keyNames } from './key-names.js';
import { describeValue, unify, unifyValue, type MapInfo } from './map-types.js';
import { hintFor, type NamedConstants } from './names.js';

/** The most copies of a piece of code nested unroll()s may make. */
const MAX_UNROLLED = 100_000n;

/**
 * What a collecting pass reads from a map no assignment has typed yet: bpftrace 0.17's "none"
 * type, which arithmetic takes as unsigned and which a copy (`@a = @b`, `$v = @b`) passes on
 * untyped. Known by identity (see pinnedSign()).
 */
const UNTYPED_MAP_READ: Type = { kind: 'int', bits: 64, signed: false };

export class Checker implements CheckContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly types = new Map<Expr, Type>();
  readonly constants = new Map<Expr, bigint | Uint8Array>();
  readonly eventOf = new Map<Expr | Stmt, EventSpec>();
  readonly events: EventSpec[] = [];
  readonly variables = new Map<Probe, Map<string, VariableInfo>>();
  private scope = new Map<string, VariableInfo>();
  /** Where each variable of the current probe is first assigned, and which ones are read. */
  private firstAssigned = new Map<string, Span>();
  private readVariables = new Set<string>();
  targets: readonly ProbeTarget[] = [];
  private loopDepth = 0;
  /** How many copies of the code being checked nested unroll()s make. */
  private unrolled = 1n;
  /** Inside a for loop body (compiled to a callback without the probe's context). */
  private forDepth = 0;

  /** Whether the code being checked is a for loop's body (a callback: no probe context there). */
  get inForLoop(): boolean {
    return this.forDepth > 0;
  }
  /** Variables declared with a type (`let $x: uint16`), and declared without one or a value (`let $x;`). */
  private declaredTypes = new Map<string, Type>();
  private undeclaredTypes = new Map<string, string>();
  readonly stringLength: number;
  readonly stackMode: StackMode;

  constructor(
    readonly kernel: KernelInfo,
    readonly names: NamedConstants,
    /** The maps as this pass assigns them. */
    readonly maps: Map<string, MapInfo>,
    /** The maps as the previous pass left them, for reads (see typecheck()). */
    readonly settled: ReadonlyMap<string, MapInfo>,
    /** A pass that learns map types and reports nothing. */
    readonly collecting: boolean,
    readonly options: CheckOptions,
    /** Types the script defines (structs, unions, enums, typedefs), by name as written. */
    readonly scriptTypes: ReadonlyMap<string, Type> = new Map(),
    /**
     * The sign of each integer (or sum) map as its first assignment in the first pass gave it,
     * kept by every later pass, as bpftrace 0.17 keeps a map's first type (see pinnedSign()).
     */
    readonly signs: Map<string, boolean> = new Map(),
  ) {
    this.stringLength = options.stringLength ?? 64;
    this.stackMode = options.stackMode ?? 'bpftrace';
  }

  /** A type as written (casts, sizeof, offsetof): the script's types, C and bpftrace names, then BTF. */
  private typeOf(tn: TypeName): Type | undefined {
    const t = resolveTypeName(tn, this.kernel, this.scriptTypes) ?? this.userTypeNamed(tn);
    if (!t) this.report(unknownType(tn.name, tn.span, this.scriptTypes));
    return t;
  }

  /** A type of the DWARF of this probe's uprobe files: bpftrace casts to them too (`(struct point *)arg0`). */
  private userTypeNamed(tn: TypeName): Type | undefined {
    if (!this.userContext) return undefined;
    for (const path of new Set(this.targets.flatMap((t) => (t.path ? [t.path] : [])))) {
      const found = this.kernel.userType?.(path, tn.name);
      if (!found) continue;
      for (const [name, record] of found.records) this.userRecords.set(name, record);
      return resolveTypeName(tn, this.kernel, new Map([[tn.name, found.type]]));
    }
    return undefined;
  }

  /**
   * Whether pointers made from integers in this probe point into user memory (uprobe, usdt).
   * Elsewhere where they point is not known ('any'): bpftrace 0.17 reads them with bpf_probe_read,
   * which on x86 reads user memory below the kernel's addresses (`*(uint8 *)(uint64)args->buf`)
   * and kernel memory above.
   */
  private get userContext(): boolean {
    return this.targets.length > 0 && this.targets.every((t) => inTracedProcess(t.provider));
  }

  /** The structs and unions of uprobe targets' DWARF that `args` has reached, by name (see fullRecord). */
  private readonly userRecords = new Map<string, Extract<Type, { kind: 'record' }>>();

  /** Set while the object of a field access is checked: `args` there is read in place, not copied. */
  private argsOfField = false;

  /** Whether this probe's tracepoints are syscall entries/exits, whose pointer fields are user addresses. */
  private get syscallTracepoints(): boolean {
    return this.targets.some((t) => t.provider === 'tracepoint' && t.parts[0] === 'syscalls');
  }

  /** The full record behind a pointer target or a record (opaque BTF records are looked up again). */
  private fullRecord(t: Type): Extract<Type, { kind: 'record' }> | undefined {
    if (t.kind !== 'record') return undefined;
    if (t.fields.length > 0) return t;
    // A user-space record (from a uprobe target's DWARF) is that file's, not the kernel's.
    const full = (t.userSpace ? this.userRecords.get(t.name) : undefined) ?? this.scriptTypes.get(t.name) ?? this.kernel.kernelType(t.name);
    return full?.kind === 'record' ? full : t;
  }

  report(d: Diagnostic): void {
    if (!this.collecting) this.diagnostics.push(d);
  }

  errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === 'error').length;
  }

  checkProbe(probe: Probe, targets: readonly ProbeTarget[]): void {
    this.targets = targets;
    this.scope = new Map();
    this.firstAssigned = new Map();
    this.readVariables = new Set();
    this.declaredTypes = new Map();
    this.undeclaredTypes = new Map();
    this.variables.set(probe, this.scope);
    if (probe.predicate) this.checkCondition(probe.predicate);
    this.checkBlock(probe.body);
    // `let $x;` never assigned: an int64 of 0, as bpftrace.
    for (const [key, name] of this.undeclaredTypes) {
      if (!this.scope.has(key)) this.scope.set(key, { name, type: INT64 });
    }
    for (const [key, span] of this.firstAssigned) {
      if (!this.readVariables.has(key)) {
        this.report(warning('W_UNUSED_VARIABLE', span, `variable $${this.scope.get(key)?.name ?? key} is assigned but never used`));
      }
    }
  }

  /**
   * The value of a condition known when the program is compiled, or undefined: constant() and
   * comparisons and logic over it (`$1 < 2 && is_str(x)`). Only conditions are folded this far,
   * so what 0.17 folds elsewhere (lhist's bounds...) stays as it was.
   */
  conditionConstant(e: Expr): bigint | undefined {
    if (e.kind === 'Unary' && e.op === '!') {
      const v = this.conditionConstant(e.operand);
      return v === undefined ? undefined : v === 0n ? 1n : 0n;
    }
    if (e.kind !== 'Binary') return this.constant(e);
    const a = this.conditionConstant(e.left);
    const b = this.conditionConstant(e.right);
    const truth = (x: boolean) => (x ? 1n : 0n);
    // `&&` and `||` are decided by one known side when it settles them.
    if (e.op === '&&' && (a === 0n || b === 0n)) return 0n;
    if (e.op === '||' && ((a !== undefined && a !== 0n) || (b !== undefined && b !== 0n))) return 1n;
    if (a === undefined || b === undefined) return undefined;
    switch (e.op) {
      case '==': return truth(a === b);
      case '!=': return truth(a !== b);
      case '<': return truth(a < b);
      case '<=': return truth(a <= b);
      case '>': return truth(a > b);
      case '>=': return truth(a >= b);
      // Both known and not settled above: && of two true sides, || of two false ones.
      case '&&': return 1n;
      case '||': return 0n;
      default: return this.constant(e);
    }
  }

  /** Code no run reaches (a branch a constant condition never takes): its fail() calls are not reported. */
  unreachable = false;

  private inBranch(never: boolean, check: () => void): void {
    const outer = this.unreachable;
    this.unreachable ||= never;
    check();
    this.unreachable = outer;
  }

  private checkBlock(block: Block): void {
    for (const s of block.statements) this.checkStmt(s);
  }

  private checkCondition(e: Expr): void {
    const t = this.expr(e);
    if (t.kind !== 'int' && t.kind !== 'bool' && t.kind !== 'pointer' && t.kind !== 'none') {
      this.report(error('E_TYPE', e.span, `a condition must be an integer, got ${typeName(t)}`));
    }
  }

  private checkStmt(s: Stmt): void {
    switch (s.kind) {
      case 'ExprStmt':
        if (s.expr.kind === 'Call' && isAggregation(s.expr.name)) {
          this.report(error('E_AGG_CONTEXT', s.expr.span, `${s.expr.name}() must be assigned to a map, e.g. @x = ${s.expr.name}(...)`));
        }
        this.expr(s.expr);
        return;
      case 'AssignStmt':
        this.assign(s);
        return;
      case 'IfStmt': {
        this.checkCondition(s.condition);
        const known = this.conditionConstant(s.condition);
        if (s.comptime) {
          // if comptime (0.26): only the branch the condition picks is checked (and compiled).
          if (known === undefined) {
            this.report(error('E_COMPTIME', s.condition.span, 'if comptime needs a condition known when the program is compiled',
              'constants, sizeof(), $1, is_str(e) and the other is_*() predicates fold; use a plain if to test a value at run time'));
          } else {
            this.constants.set(s.condition, known);
            if (known !== 0n) this.checkBlock(s.then);
            else if (s.otherwise) s.otherwise.kind === 'IfStmt' ? this.checkStmt(s.otherwise) : this.checkBlock(s.otherwise);
            return;
          }
        }
        // A branch a constant condition never takes is checked, but a fail() there is not reached.
        this.inBranch(known === 0n, () => this.checkBlock(s.then));
        if (s.otherwise) {
          const otherwise = s.otherwise;
          this.inBranch(known !== undefined && known !== 0n,
            () => (otherwise.kind === 'IfStmt' ? this.checkStmt(otherwise) : this.checkBlock(otherwise)));
        }
        return;
      }
      case 'WhileStmt':
        this.checkCondition(s.condition);
        this.loopDepth++;
        this.checkBlock(s.body);
        this.loopDepth--;
        return;
      case 'UnrollStmt': {
        const n = this.constant(s.count);
        const valid = n !== undefined && n >= 1n && n <= 100n;
        if (!valid) {
          this.report(error('E_UNROLL', s.count.span, 'unroll() takes a constant from 1 to 100'));
        } else if (this.unrolled * n > MAX_UNROLLED) {
          // Code generation would take minutes (bpftrace's too) for a program the kernel refuses.
          this.report(error('E_UNROLL', s.count.span, `nested unroll()s repeat this code ${this.unrolled * n} times; at most ${MAX_UNROLLED} copies`,
            'the kernel loads at most 1,000,000 instructions: use a while loop'));
          return;
        }
        const outer = this.unrolled;
        if (valid) this.unrolled *= n;
        this.checkBlock(s.body);
        this.unrolled = outer;
        return;
      }
      case 'ForStmt':
        this.forLoop(s);
        return;
      case 'ForRangeStmt':
        this.forRange(s);
        return;
      case 'LetStmt':
        this.declare(s);
        return;
      case 'JumpStmt':
        if (s.jump !== 'return' && this.loopDepth === 0) {
          this.report(error('E_JUMP', s.span, `'${s.jump}' outside of a loop`));
        }
        if (s.value && this.expr(s.value).kind !== 'int') {
          this.report(error('E_TYPE', s.value.span, 'return takes an integer (the probe\'s return value)', 'write e.g. return 1;'));
        }
        return;
      case 'BlockStmt':
        this.checkBlock(s.block);
        return;
    }
  }

  /** `for ($kv : @map)`: $kv is the tuple (key, value) of each entry, local to the body. */
  private forLoop(s: Extract<Stmt, { kind: 'ForStmt' }>): void {
    const name = mapName(s.map);
    const info = this.mapInfo(name);
    if (!info) {
      if (!this.collecting) this.report(error('E_UNDEFINED_MAP', s.map.span, `map ${name} is used but never assigned`));
      return;
    }
    if (info.kind !== 'scalar' || !info.keyType) {
      this.report(error('E_FOR_LOOP', s.map.span, info.keyType
        ? `for loops iterate over maps of plain values; ${name} holds ${info.kind}() values, which are kept per CPU`
        : `for loops iterate over maps with keys; ${name} has no key`));
      return;
    }
    const kv: Type = { kind: 'tuple', elements: [info.keyType, info.valueType] };
    const key = variableKey(s.variable);
    const outer = this.scope.get(key);
    this.scope.set(key, { name: s.variable.name, type: kv });
    this.types.set(s.variable, kv);
    this.readVariables.add(key);
    this.loopBody(s.body);
    if (outer) this.scope.set(key, outer);
    else this.scope.delete(key);
  }

  /** A for loop's body: compiled to a callback (see codegen's loopCallback). */
  private loopBody(body: Block): void {
    this.forDepth++;
    this.loopDepth++;
    this.checkBlock(body);
    this.loopDepth--;
    this.forDepth--;
  }

  /** `for ($i : start..end)`: $i is an int64 of the body (its binding is the loop's own). */
  private forRange(s: Extract<Stmt, { kind: 'ForRangeStmt' }>): void {
    for (const bound of [s.start, s.end]) {
      const t = this.expr(bound);
      if (t.kind !== 'int') this.report(error('E_TYPE', bound.span, `a range is made of integers, got ${typeName(t)}`));
    }
    const key = variableKey(s.variable);
    this.scope.set(key, { name: s.variable.name, type: INT64 });
    this.types.set(s.variable, INT64);
    this.readVariables.add(key);
    this.loopBody(s.body);
  }

  /** `let $x [: type] [= value]`: a typed declaration keeps its type; without a value, 0. */
  private declare(s: Extract<Stmt, { kind: 'LetStmt' }>): void {
    const key = variableKey(s.variable);
    // `string` is a type only here: a string of the usual length (BPFTRACE_STRLEN).
    const isString = s.type?.name === 'string' && s.type.pointerDepth === 0 && s.type.arrayLength === undefined;
    const declared = isString ? str(this.stringLength) : s.type ? this.typeOf(s.type) : undefined;
    if (declared) this.declaredTypes.set(key, declared);
    if (s.value) {
      const t = this.expr(s.value);
      if (t.kind === 'none') this.report(error('E_TYPE', s.value.span, 'this expression has no value to assign'));
      else this.defineVariable(s.variable, t, s.value);
    } else if (declared) {
      this.defineVariable(s.variable, declared);
    } else {
      // Its type comes from a later assignment; read before any, it is an int64 of 0.
      this.firstAssigned.set(key, s.variable.span);
      this.undeclaredTypes.set(key, s.variable.name);
    }
  }

  private assign(s: AssignStmt): void {
    const value = s.value;
    if (s.target.kind === 'MapRef' && value.kind === 'Call' && isAggregation(value.name)) {
      if (s.op !== '=') {
        this.report(error('E_AGG_CONTEXT', s.span, `${value.name}() can only be assigned with '='`));
      }
      this.types.set(value, this.call(value, s.target));
      return;
    }
    let t = this.expr(value);
    if (s.op !== '=') {
      // `@m op= v` is `@m = @m op v`, of the map's own type (a uint64 if not typed yet).
      const current = this.expr(s.target);
      // A pointer moves by whole elements (`$p += 2`), as in C and bpftrace.
      const movesPointer = current.kind === 'pointer' && t.kind === 'int' && (s.op === '+' || s.op === '-');
      if (movesPointer) {
        t = current;
      } else if (current.kind !== 'int' || t.kind !== 'int') {
        this.report(error('E_TYPE', s.span, `'${s.op}=' needs integers, got ${typeName(current)} and ${typeName(t)}`));
      } else {
        this.signWarnings(s.op, s.opSpan, s.target, current, value, t);
      }
      if (!movesPointer) t = current === UNTYPED_MAP_READ ? UINT64 : current.kind === 'int' ? current : t;
    }
    if (t.kind === 'none') {
      this.report(error('E_TYPE', value.span, 'this expression has no value to assign'));
      return;
    }
    if (s.target.kind === 'Variable') {
      this.defineVariable(s.target, t, value);
    } else {
      this.mapAssign(s.target, 'scalar', storageType(t), value.span, undefined, t === UNTYPED_MAP_READ, t.kind === 'int' ? t.bits : undefined);
    }
  }

  /** `$v` given a value of type `t` other than by `=` (find()'s result). */
  assignVariable(v: Variable, t: Type): void {
    this.defineVariable(v, t);
  }

  private defineVariable(v: Variable, t: Type, value?: Expr): void {
    const key = variableKey(v);
    const existing = this.scope.get(key);
    if (!this.firstAssigned.has(key)) this.firstAssigned.set(key, v.span);
    const declared = this.declaredTypes.get(key);
    if (declared) {
      this.assignDeclared(v, declared, t, value);
      return;
    }
    if (!existing) {
      // Integers keep their width (bswap, printf and casts see it); codegen keeps them in an i64.
      this.scope.set(key, { name: v.name, type: t });
      this.types.set(v, t);
      return;
    }
    // An integer of the same width or narrower is converted to the variable's type, as in bpftrace
    // 0.17 (`$x = (uint32)5; $x = (int32)-1` holds 4294967295); a wider one widens it.
    const u = existing.type.kind === 'int' && t.kind === 'int' && t.bits <= existing.type.bits ? existing.type : unify(existing.type, t);
    if (!u) {
      const d = error('E_TYPE_MISMATCH', v.span,
        `type mismatch for $${v.name}: assigning ${typeName(t)} to a variable of type ${typeName(existing.type)}`);
      const first = this.firstAssigned.get(key);
      this.report(first && first !== v.span ? withNote(d, first, `$${v.name} is first assigned here`) : d);
      return;
    }
    this.scope.set(key, { name: v.name, type: u });
    this.types.set(v, u);
  }

  /**
   * An assignment to a variable declared with a type (`let $x: uint16`): integers are converted
   * to it, except a literal that does not fit; anything else must be of that type.
   */
  private assignDeclared(v: Variable, declared: Type, t: Type, value: Expr | undefined): void {
    this.scope.set(variableKey(v), { name: v.name, type: declared });
    this.types.set(v, declared);
    const literal = value && this.constant(value);
    if (declared.kind === 'int' && t.kind === 'int') {
      const bits = BigInt(declared.bits);
      const [lo, hi] = declared.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
      if (literal !== undefined && (literal < lo || literal > hi)) {
        this.report(error('E_TYPE_MISMATCH', value!.span, `${literal} does not fit in $${v.name}, declared ${typeName(declared)}`));
      }
      return;
    }
    if (unify(declared, t) === undefined || (declared.kind !== t.kind)) {
      this.report(error('E_TYPE_MISMATCH', v.span, `type mismatch for $${v.name}: assigning ${typeName(t)} to a variable declared ${typeName(declared)}`));
    }
  }

  /** Records a map's key type from a use with keys (or none). */
  private mapKey(m: MapRef): Type | undefined {
    if (!m.keys || m.keys.length === 0) return undefined;
    const keyTypes = m.keys.map((k) => {
      const t = this.expr(k);
      if (t.kind === 'none' || t.kind === 'aggregation') {
        this.report(error('E_TYPE', k.span, `a map key cannot be of type ${typeName(t)}`));
      }
      return storageType(t);
    });
    return keyTypes.length === 1 ? keyTypes[0] : { kind: 'tuple', elements: keyTypes };
  }

  mapAssign(m: MapRef, kind: MapKind, valueType: Type, span: Span, params?: AggregationParams, untyped = false, intBits?: number): void {
    valueType = this.pinnedSign(mapName(m), kind, valueType, untyped);
    const keyType = this.mapKey(m);
    const info = this.maps.get(mapName(m));
    const { lhist, tseries } = params ?? {};
    if (!info) {
      const names = m.keys?.length ? keyNames(m.keys) : undefined;
      const bits = kind === 'scalar' && valueType.kind === 'int' ? { intBits: intBits ?? 64 } : {};
      this.maps.set(mapName(m), { kind, keyType, keyNames: names, valueType, ...bits, lhist, tseries, span: m.span, keyed: keyType !== undefined });
      this.types.set(m, valueType);
      return;
    }
    if (info.kind !== kind || (kind === 'scalar' && !unifyValue(info.valueType, valueType))) {
      const now = kind === 'scalar' ? typeName(valueType) : kind;
      this.report(withNote(
        error('E_TYPE_MISMATCH', m.span, `type mismatch for ${mapName(m)}: assigning ${now} to a map that holds ${describeValue(info)}`),
        info.span, `${mapName(m)} is first assigned here, as ${describeValue(info)}`));
      return;
    }
    if (kind === 'scalar') info.valueType = unifyValue(info.valueType, valueType)!;
    // A wider value widens an integer map, as in bpftrace 0.17 (`+=` too: its value is 64-bit; `++`: see IncDec).
    if (info.intBits !== undefined && intBits !== undefined) info.intBits = Math.max(info.intBits, intBits);
    if (lhist && info.lhist && (lhist.min !== info.lhist.min || lhist.max !== info.lhist.max || lhist.step !== info.lhist.step)) {
      this.report(error('E_TYPE_MISMATCH', span, `lhist() of ${mapName(m)} is used with different min, max or step`));
    }
    const t = info.tseries;
    if (tseries && t && (tseries.intervalNs !== t.intervalNs || tseries.intervals !== t.intervals || tseries.agg !== t.agg)) {
      this.report(withNote(error('E_TYPE_MISMATCH', span, `tseries() of ${mapName(m)} is used with a different interval, count or aggregation`),
        info.span, `${mapName(m)} is first assigned here`));
    }
    this.unifyKey(m, info, keyType);
    this.types.set(m, info.valueType);
  }

  /**
   * An integer or sum map's value type with the sign it was first given. bpftrace 0.17 types a map
   * by its first assignment in its first pass, where a map not assigned yet reads as a value with
   * no type, which arithmetic treats as unsigned (`@x += 1` before any `@x = ...` makes @x a
   * uint64, so `@x -= 1` from nothing prints 18446744073709551615), and keeps that type in the
   * passes after, when the map read has its type. A plain copy of such a map (`@a = @b`) gives no
   * type yet: the next assignment, or the next pass, does.
   */
  private pinnedSign(name: string, kind: MapKind, t: Type, untyped: boolean): Type {
    const signed = t.kind === 'int' ? t.signed : t.kind === 'aggregation' && kind === 'sum' ? t.signed : undefined;
    if (signed === undefined) return t;
    const pinned = this.signs.get(name);
    if (pinned === undefined) {
      if (!untyped) this.signs.set(name, signed);
      return t;
    }
    return pinned === signed ? t : { ...t, signed: pinned } as Type;
  }

  private unifyKey(m: MapRef, info: MapInfo, keyType: Type | undefined): void {
    const first = (d: Diagnostic) => withNote(d, info.span,
      `${mapName(m)} is first assigned here, ${info.keyType ? `with key type ${typeName(info.keyType)}` : 'without a key'}`);
    if ((keyType === undefined) !== (info.keyType === undefined)) {
      this.report(first(error('E_MAP_KEY', m.span, keyType
        ? `${mapName(m)} is used without a key elsewhere, but with a key here`
        : `${mapName(m)} is used with a key elsewhere, but without one here`)));
      return;
    }
    if (keyType && info.keyType) {
      const u = unify(info.keyType, keyType);
      if (!u) {
        this.report(first(error('E_MAP_KEY', m.span,
          `${mapName(m)} has key type ${typeName(info.keyType)}, but is used here with ${typeName(keyType)}`)));
        return;
      }
      info.keyType = u;
    }
  }

  /** A map as uses that read it see it: as settled for the whole program, else as assigned so far. */
  mapInfo(name: string): MapInfo | undefined {
    return this.settled.get(name) ?? this.maps.get(name);
  }

  /** Reads a map (`@m[k]`): its keys are unified with the map's (as this pass assigns it). */
  readMap(m: MapRef): MapInfo | undefined {
    const keyType = this.mapKey(m);
    const own = this.maps.get(mapName(m));
    const info = this.mapInfo(mapName(m));
    // A map not assigned yet in this pass: its keys are checked against the settled ones, not recorded.
    const keyed = own ?? (info && { ...info });
    if (keyed) this.unifyKey(m, keyed, keyType);
    return info;
  }

  checkArity(call: Call, min: number, max: number, hint?: string): boolean {
    if (call.args.length < min || call.args.length > max) {
      const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      this.report(error('E_ARITY', call.span,
        `${call.name}() takes ${expected} argument${expected === '1' ? '' : 's'}, got ${call.args.length}`, hint));
      return false;
    }
    return true;
  }

  /** Folds a constant integer expression, or undefined. */
  constant(e: Expr): bigint | undefined {
    switch (e.kind) {
      case 'IntLiteral': return e.value;
      case 'BoolLiteral': return e.value ? 1n : 0n;
      case 'Identifier': return this.names.value(e.name);
      case 'Unary': {
        const v = this.constant(e.operand);
        if (v === undefined) return undefined;
        return e.op === '-' ? -v : e.op === '~' ? ~v : e.op === '!' ? (v === 0n ? 1n : 0n) : e.op === '+' ? v : undefined;
      }
      case 'Binary': {
        const a = this.constant(e.left);
        const b = this.constant(e.right);
        if (a === undefined || b === undefined) return undefined;
        // 64-bit arithmetic, as the program would compute it.
        const wrap = (v: bigint) => BigInt.asIntN(64, v);
        switch (e.op) {
          case '+': return wrap(a + b);
          case '-': return wrap(a - b);
          case '*': return wrap(a * b);
          case '/': return b === 0n ? undefined : wrap(a / b);
          case '%': return b === 0n ? undefined : wrap(a % b);
          case '<<': return wrap(a << (b & 63n));
          case '>>': return wrap(BigInt.asUintN(64, a) >> (b & 63n)); // logical, as bpftrace's (see codegen)
          default: return undefined;
        }
      }
      case 'Call':
        // is_str(e) and its kind, kfunc_exist(): decided when the call is typed.
        if (!CONSTANT_CALLS.has(e.name)) return undefined;
        if (!this.constants.has(e)) this.expr(e);
        return this.constants.get(e) as bigint | undefined;
      case 'SizeOf':
      case 'PositionalParam':
        // Its value is computed when the expression is typed.
        if (!this.constants.has(e)) this.expr(e);
        return this.constants.get(e) as bigint | undefined;
      default:
        return undefined;
    }
  }

  /** Checks an expression (public for functions-check.ts). */
  expr(e: Expr): Type {
    const t = this.exprUncached(e);
    this.types.set(e, t);
    return t;
  }

  private exprUncached(e: Expr): Type {
    switch (e.kind) {
      case 'IntLiteral':
        return e.suffix.includes('u') || e.value > 0x7fffffffffffffffn ? UINT64 : INT64;
      case 'BoolLiteral':
        return INT64;
      case 'StringLiteral':
        return str(stringBytes(e.value).length + 1);
      case 'PositionalParam':
        this.constants.set(e, parameterValue(this, e));
        return INT64;
      case 'Builtin':
        return this.builtin(e.name, e.span);
      case 'Identifier': {
        const value = this.names.value(e.name);
        if (value !== undefined) {
          this.constants.set(e, value);
          return INT64;
        }
        this.report(error('E_UNKNOWN_IDENTIFIER', e.span, `unknown identifier '${e.name}'`,
          hintFor(e.name, BUILTIN_VARIABLE_NAMES) ?? 'constants come from enums in the script, #included headers and kernel BTF'));
        return NONE;
      }
      case 'Variable': {
        const key = variableKey(e);
        this.readVariables.add(key);
        const v = this.scope.get(key);
        if (!v) {
          if (this.undeclaredTypes.has(key)) return INT64;
          const names = [...this.scope.values()].map((x) => x.name);
          this.report(error('E_UNDEFINED_VARIABLE', e.span, `variable $${e.name} is used before it is assigned`,
            names.includes(e.name) ? `a $${e.name} declared with 'let' is a variable of its block only: declare it before the block`
              : hintFor(e.name, names, '$')));
          return INT64;
        }
        return v.type;
      }
      case 'MapRef': {
        const info = this.readMap(e);
        if (!info) {
          if (!this.collecting) {
            this.report(error('E_UNDEFINED_MAP', e.span, `map ${mapName(e)} is used but never assigned`,
              hintFor(mapName(e), [...this.maps.keys()])));
            return INT64;
          }
          return UNTYPED_MAP_READ;
        }
        if (info.kind === 'scalar') return info.valueType;
        if (info.kind === 'count' || info.kind === 'sum' || info.kind === 'min' || info.kind === 'max' || info.kind === 'avg') {
          return info.kind === 'count' ? UINT64 : INT64;
        }
        this.report(error('E_TYPE', e.span, `the value of a ${info.kind}() map cannot be read in a probe`));
        return INT64;
      }
      case 'Call':
        return this.call(e);
      case 'Unary': {
        const t = this.expr(e.operand);
        // As bpftrace 0.17: !x is unsigned, as wide as x.
        if (e.op === '!') return t.kind === 'int' ? { kind: 'int', bits: t.bits, signed: false } : UINT64;
        if (e.op === '*') {
          if (t.kind === 'int') {
            // As bpftrace: an integer is an address, dereferenced as a 64-bit integer.
            this.types.set(e.operand, { kind: 'pointer', target: INT64, ...(this.userContext ? { userSpace: true } : { anySpace: true }) });
            return INT64;
          }
          if (t.kind !== 'pointer') {
            this.report(error('E_TYPE', e.span, `'*' needs a pointer, got ${typeName(t)}`, 'cast it first, e.g. *(int32 *)addr'));
            return INT64;
          }
          const target = t.target.kind === 'record' ? this.fullRecord(t.target)! : t.target;
          if (target.kind === 'none') {
            this.report(error('E_TYPE', e.span, `cannot dereference a void pointer`, 'cast it first, e.g. *(uint64 *)p'));
            return INT64;
          }
          this.types.set(e.operand, { ...t, target });
          return withSpace(target, spaceOf(t));
        }
        if (e.op === '&') {
          this.report(error('E_UNSUPPORTED', e.span, `unary '&' is not supported`));
          return INT64;
        }
        if (t.kind !== 'int') {
          this.report(error('E_TYPE', e.span, `'${e.op}' needs an integer, got ${typeName(t)}`));
          return INT64;
        }
        // As bpftrace 0.17: -x is 64 bits, signed as x is (-(uint16)1 is 65535: see codegen).
        return e.op === '-' ? (t.signed ? INT64 : UINT64) : t;
      }
      case 'IncDec': {
        const held = e.target.kind === 'MapRef' ? this.maps.get(mapName(e.target)) : undefined;
        if (held && held.kind !== 'scalar') {
          // As bpftrace: an aggregation's value is read, not written (count() keeps one per CPU).
          this.report(error('E_TYPE', e.span, `the ${e.op} operator cannot be used on a ${held.kind}() map`,
            held.kind === 'count' ? `${mapName(e.target as MapRef)} = count() adds one itself` : `assign ${held.kind}() again to add a value`));
          return INT64;
        }
        const t = this.expr(e.target);
        if (e.target.kind === 'Variable' && !this.scope.has(variableKey(e.target))) return INT64;
        if (e.target.kind === 'MapRef' && !held) {
          this.mapAssign(e.target, 'scalar', INT64, e.span);
        } else if (held?.intBits !== undefined) {
          // As bpftrace 0.17: `@x++` is a 64-bit update (`@x = (uint8)255; @x++` holds 256).
          held.intBits = 64;
        } else if (t.kind !== 'int' && t.kind !== 'pointer') {
          this.report(error('E_TYPE', e.span, `the ${e.op} operator needs an integer, got ${typeName(t)}`));
          return INT64;
        }
        return t;
      }
      case 'Binary':
        return this.binary(e);
      case 'Ternary': {
        this.checkCondition(e.condition);
        if (e.comptime) {
          // if comptime as a value: the branch the condition picks, alone.
          const known = this.conditionConstant(e.condition);
          if (known !== undefined) {
            this.constants.set(e.condition, known);
            return this.expr(known !== 0n ? e.then : e.otherwise);
          }
          this.report(error('E_COMPTIME', e.condition.span, 'if comptime needs a condition known when the program is compiled',
            'constants, sizeof(), $1, is_str(e) and the other is_*() predicates fold; use a plain if to test a value at run time'));
        }
        const a = e.then === e.condition ? this.types.get(e.condition)! : this.expr(e.then);
        const b = this.expr(e.otherwise);
        const u = unify(a, b);
        if (!u) {
          this.report(error('E_TYPE_MISMATCH', e.span, `the branches of ?: have different types: ${typeName(a)} and ${typeName(b)}`));
          return a;
        }
        // As bpftrace 0.17: an integer ?: is signed as its first branch is (`c ? (uint64)x : -1` is unsigned).
        return u.kind === 'int' && a.kind === 'int' ? { ...u, signed: a.signed } : u;
      }
      case 'FieldAccess':
        return this.field(e);
      case 'BlockExpr':
        for (const s of e.statements) this.checkStmt(s);
        return this.expr(e.value);
      case 'TupleExpr':
        return { kind: 'tuple', elements: e.elements.map((x) => storageType(this.expr(x))), ...(e.names ? { names: e.names } : {}) };
      case 'TupleIndex': {
        const t = this.expr(e.tuple);
        if (t.kind !== 'tuple') {
          this.report(error('E_TYPE', e.span, `.${e.index} needs a tuple, got ${typeName(t)}`));
          return INT64;
        }
        return this.tupleElement(t, e.index, e.span);
      }
      case 'Cast': {
        const t = this.expr(e.operand);
        const m = /^(u?)int(8|16|32|64)$/.exec(e.type.name);
        if (t.kind === 'array' || e.type.arrayLength !== undefined || e.type.unsizedArray) return arrayCast(this, e, t);
        if (m && e.type.pointerDepth === 0 && (t.kind === 'int' || t.kind === 'pointer')) {
          return { kind: 'int', bits: Number(m[2]) as 8, signed: m[1] === '' };
        }
        const target = this.typeOf(e.type);
        if (!target) return INT64;
        if (target.kind === 'pointer') {
          if (t.kind !== 'int' && t.kind !== 'pointer') {
            this.report(error('E_TYPE', e.span, `cannot cast ${typeName(t)} to ${typeName(target)}`));
            return INT64;
          }
          return withSpace(target, t.kind === 'pointer' ? spaceOf(t) : this.userContext ? 'user' : 'any');
        }
        if (target.kind === 'int' && (t.kind === 'int' || t.kind === 'pointer')) return target;
        this.report(error('E_TYPE', e.span, `cannot cast ${typeName(t)} to ${e.type.name}`, 'casts go to integers or pointers'));
        return INT64;
      }
      case 'Index': {
        const t = this.expr(e.object);
        const it = this.expr(e.index);
        if (t.kind === 'tuple') {
          // `$t[1]` (bpftrace 0.25+): a constant index, as `$t.1`.
          const at = this.constant(e.index);
          if (at === undefined) {
            this.report(error('E_TUPLE_INDEX', e.index.span, 'a tuple is indexed with a constant', `e.g. $t[1] or $t.1`));
            return INT64;
          }
          this.constants.set(e.index, at);
          return this.tupleElement(t, Number(at), e.span);
        }
        if (it.kind !== 'int') this.report(error('E_TYPE', e.index.span, `an index must be an integer, got ${typeName(it)}`));
        if (t.kind === 'pointer' && t.target.kind !== 'none') {
          const target = t.target.kind === 'record' ? this.fullRecord(t.target)! : t.target;
          this.types.set(e.object, { ...t, target });
          return withSpace(target, spaceOf(t));
        }
        if (t.kind === 'array') return t.element;
        // A byte of a string, with any index (bpftrace 0.25); 0 past its end.
        if (t.kind === 'string') return { kind: 'int', bits: 8, signed: true };
        this.report(error('E_TYPE', e.span, `'[]' needs a pointer or an array, got ${typeName(t)}`));
        return INT64;
      }
      case 'SizeOf': {
        let size: number | undefined;
        if (e.operand.kind === 'TypeName') {
          const t = this.typeOf(e.operand);
          if (t) size = t.kind === 'record' ? this.fullRecord(t)!.size : sizeOf(t);
        } else {
          const t = this.expr(e.operand);
          size = t.kind === 'record' ? this.fullRecord(t)!.size : sizeOf(t);
        }
        this.constants.set(e, BigInt(size ?? 0));
        return UINT64;
      }
      case 'OffsetOf': {
        const t = this.typeOf(e.type);
        const record = t ? this.fullRecord(t) : undefined;
        if (t && !record) {
          this.report(error('E_TYPE', e.type.span, `offsetof() needs a struct, got ${typeName(t)}`));
        } else if (record) {
          // A field of a field (`a.b.c`, bpftrace 0.26): the offsets add up.
          let offset = 0;
          let inside: typeof record | undefined = record;
          const path: string[] = [];
          for (const name of e.field.split('.')) {
            const f: (typeof record.fields)[number] | undefined = inside?.fields.find((x) => x.name === name);
            if (!f) {
              const what = path.length === 0 ? record.name : `${record.name}'s field ${path.join('.')}`;
              this.report(error('E_UNKNOWN_FIELD', e.span, inside ? `${what} has no field '${name}'` : `${what} is not a struct: it has no field '${name}'`,
                inside ? hintFor(name, inside.fields.map((x) => x.name)) : undefined));
              return UINT64;
            }
            path.push(name);
            offset += f.offset;
            inside = this.fullRecord(f.type);
          }
          this.constants.set(e, BigInt(offset));
        }
        return UINT64;
      }
    }
  }

  private builtin(name: string, span: Span): Type {
    const key = builtinNamed(name);
    if (!key) {
      this.report(error('E_UNKNOWN_BUILTIN', span, `unknown builtin '${name}'`, hintFor(name, BUILTIN_VARIABLE_NAMES)));
      return INT64;
    }
    const spec = BUILTIN_VARIABLES[key];
    if (spec.providers) {
      const bad = this.targets.find((t) => !spec.providers!.includes(t.provider));
      if (bad) {
        this.report(error('E_BUILTIN_CONTEXT', span, `'${name}' is not available in ${bad.provider} probes`));
      }
    }
    if (this.forDepth > 0 && spec.notInForLoop) {
      this.report(error('E_FOR_LOOP', span, `'${name}' is not available inside a for loop; copy it to a variable before the loop`));
    }
    return Checker.BUILTIN_TYPES[key](this, name, span) ?? spec.type;
  }

  /** Type rules of builtin variables that depend on the probe; undefined: the type in their record. */
  private static readonly BUILTIN_TYPES = {
    pid: tableType, tid: tableType, uid: tableType, gid: tableType, nsecs: tableType, elapsed: tableType,
    cpu: tableType, ncpus: tableType, numaid: tableType, cgroup: tableType, rand: tableType, jiffies: tableType, comm: tableType,
    username: tableType, kstack: stackType, ustack: stackType, probe: targetNameType, func: targetNameType, ctx: tableType,
    cpid: (c, _name, span) => {
      // As bpftrace: a run without -c has no child to give the pid of (has_cpid asks first).
      if (c.options.childCommand === false) {
        c.report(error('E_NO_CHILD', span, 'cpid cannot be used without a child command', 'run the command with -c CMD (has_cpid says whether there is one)'));
      }
      return undefined;
    },
    has_cpid: tableType, probetype: tableType, usermode: tableType, sargN: tableType,
    args: (c, _name, span) => c.argsType(span),
    curtask: (c) => {
      const task = c.kernel.kernelType('struct task_struct');
      return task ? { kind: 'pointer', target: task } : undefined;
    },
    argN: (c, name, span) => c.argType(name, span),
    retval: (c) => {
      const kf = c.targets.find((t) => t.provider === 'kretfunc');
      const ret = kf ? c.kernel.kernelFunction?.(kf.func!)?.returnType : undefined;
      return ret && (ret.kind === 'int' || ret.kind === 'pointer') ? ret : undefined;
    },
  } satisfies Record<BuiltinName, (c: Checker, name: string, span: Span) => Type | undefined>;

  /** argN: typed from BTF (rawtracepoint, kfunc), checked against the USDT spec, else the table's. */
  private argType(name: string, span: Span): Type | undefined {
    const n = Number(name.slice('arg'.length));
    if (this.targets.some((t) => t.provider === 'rawtracepoint' || t.provider === 'kfunc' || t.provider === 'kretfunc')) {
      const args = this.kernelArgsOf(span);
      const a = args?.[n];
      if (args && !a) {
        this.report(error('E_BUILTIN_CONTEXT', span, `${name} is out of range: this probe has ${args.length} argument${args.length === 1 ? '' : 's'}`));
      }
      return a?.type.kind === 'int' || a?.type.kind === 'pointer' ? a.type : UINT64;
    }
    if (this.targets.length > 0 && this.targets.every((t) => t.provider === 'usdt')) {
      const specs = this.targets.map((t) => usdtArgs(t.usdt?.args ?? ''));
      const missing = this.targets.find((_, i) => specs[i]!.length <= n);
      if (missing) {
        const have = specs[this.targets.indexOf(missing)]!.length;
        this.report(error('E_BUILTIN_CONTEXT', span, `${name} is out of range: ${missing.name} has ${have} argument${have === 1 ? '' : 's'}`));
      }
      // Never a silent 0 for an argument the probe cannot read.
      const unreadable = specs.map((s, i) => ({ spec: s[n], target: this.targets[i]! })).find((a) => a.spec?.kind === 'unsupported');
      if (unreadable?.spec?.kind === 'unsupported') {
        this.report(error('E_BUILTIN_CONTEXT', span,
          `${name} of ${unreadable.target.name} cannot be read: its spec \`${unreadable.spec.text}\` is ${unreadable.spec.why}`,
          'the program\'s note says where the argument is; tracelet reads constants, registers and memory at registers'));
      }
      return specs.every((s) => s[n] !== undefined && s[n]!.kind !== 'unsupported' && s[n]!.signed) ? INT64 : UINT64;
    }
    return undefined;
  }

  /**
   * `args` of a uprobe, as bpftrace built with libdw gives it: the function's parameters by name,
   * typed from the file's DWARF, each read from the register the x86-64 calling convention passes
   * it in (the first six that fit one). Every target must have the same parameters.
   */
  private uprobeArgs(span: Span): Type {
    let first: DwarfFunction | undefined;
    for (const t of this.targets) {
      const f = t.path ? this.kernel.userFunction?.(t.path, t.func ?? t.parts.at(-1)!, t.address) : undefined;
      if (!f) {
        this.report(error('E_BUILTIN_CONTEXT', span, `no DWARF debug info for ${t.func ?? t.parts.at(-1)} in ${t.path ?? 'this file'}: its arguments have no names here`,
          'build it with -g (or install its debug symbols), or use arg0, arg1, ... (cast to the parameter\'s type, e.g. (int32)arg0)'));
        return NONE;
      }
      if (!first) first = f;
      else if (f.params.map((p) => `${p.name} ${typeName(p.type)}`).join() !== first.params.map((p) => `${p.name} ${typeName(p.type)}`).join()) {
        this.report(error('E_TYPE_MISMATCH', span, `the probes of this block have different arguments (${this.targets[0]!.name} and ${t.name})`));
        return NONE;
      }
    }
    for (const [name, record] of first!.records) this.userRecords.set(name, record);
    const fields: RecordField[] = [];
    first!.params.forEach((p, i) => {
      const inRegister = p.type.kind === 'int' || p.type.kind === 'pointer';
      if (inRegister && i < ARG_REGS.length) fields.push({ name: p.name, type: p.type, offset: ARG_REGS[i]! });
    });
    const t = this.targets[0]!;
    return { kind: 'record', name: `args of ${t.func ?? t.parts.at(-1)}`, size: 0, fields, userSpace: true };
  }

  /** Arguments (from BTF) of the rawtracepoint/kfunc probe being checked; every target must agree. */
  private kernelArgsOf(span: Span): readonly { name: string; type: Type }[] | undefined {
    let first: readonly { name: string; type: Type }[] | undefined;
    for (const t of this.targets) {
      const args = kernelArgs(t, this.kernel);
      if (!args) continue;
      if (!first) first = args;
      else if (args.map((a) => typeName(a.type)).join() !== first.map((a) => typeName(a.type)).join()) {
        this.report(error('E_TYPE_MISMATCH', span, `the probes of this block have different arguments (${this.targets[0]!.name} and ${t.name})`));
        return first;
      }
    }
    return first;
  }

  /** `args`: a record of the tracepoint's fields, the BTF arguments (rawtracepoint, kfunc) or a uprobe's parameters. */
  private argsType(span: Span): Type {
    if (this.targets.some((t) => t.provider === 'rawtracepoint' || t.provider === 'kfunc' || t.provider === 'kretfunc')) {
      const args = this.kernelArgsOf(span) ?? [];
      const t = this.targets[0]!;
      return {
        kind: 'record',
        name: `args of ${t.name}`,
        size: args.length * 8,
        fields: args.map((a, i) => ({ name: a.name, type: a.type, offset: i * 8 })),
      };
    }
    if (this.targets.length > 0 && this.targets.every((t) => t.provider === 'uprobe')) return this.uprobeArgs(span);
    const [first, ...others] = this.tracepointFormats();
    if (!first) {
      this.report(error('E_BUILTIN_CONTEXT', span, `'args' is only available in tracepoint probes here`,
        this.targets.some((t) => t.provider === 'uretprobe') ? 'a uretprobe has retval; its arguments are gone' : undefined));
      return NONE;
    }
    const fields = first.fields.map((f) => ({ name: f.name, type: f.type, offset: f.offset }));
    const name = `args of ${first.category}:${first.event}`;
    // args.FIELD reads the context: the record needs no size.
    if (this.argsOfField) return { kind: 'record', name, size: 0, fields };
    // A whole record (print(args), @x = args) is copied: its fields, to the end of the last one.
    // The common_* header is left out (bpftrace 0.26 prints it): BPF sees a pointer over it.
    const layout = (f: TracepointFormat) => f.fields.map((x) => `${x.name}:${typeName(x.type)}@${x.offset}`).join();
    const other = others.find((f) => layout(f) !== layout(first));
    if (other) {
      this.report(error('E_TYPE_MISMATCH', span,
        `'args' as a whole needs one record layout, but ${first.category}:${first.event} and ${other.category}:${other.event} differ`,
        'use the fields they share, e.g. args.FIELD, or give each tracepoint its own probe'));
      return NONE;
    }
    const last = first.fields.at(-1);
    return { kind: 'record', name, size: last ? last.offset + last.size : 0, fields };
  }

  /** The __data_loc description of a tracepoint field, if it is one. */
  private dataLocOf(field: string): { element: Type } | undefined {
    return this.tracepointFormats()[0]?.fields.find((f) => f.name === field)?.dataLoc;
  }

  tracepointFormats(): TracepointFormat[] {
    const out: TracepointFormat[] = [];
    for (const t of this.targets) {
      if (t.provider !== 'tracepoint') continue;
      const f = this.kernel.tracepointFormat(t.parts[0]!, t.parts[1]!);
      if (f) out.push(f);
    }
    return out;
  }

  /** Element `index` of a tuple (or record), or an error at `span`. */
  private tupleElement(t: Extract<Type, { kind: 'tuple' }>, index: number, span: Span): Type {
    const el = t.elements[index];
    if (!el) {
      this.report(error('E_TUPLE_INDEX', span, `tuple index ${index} is out of range (the tuple has ${t.elements.length} elements)`));
      return INT64;
    }
    return el;
  }

  private field(e: Extract<Expr, { kind: 'FieldAccess' }>): Type {
    this.argsOfField = e.object.kind === 'Builtin' && e.object.name === 'args';
    let objectType = this.expr(e.object);
    this.argsOfField = false;
    if (objectType.kind === 'tuple' && !e.arrow) {
      // A record's field (bpftrace 0.25+: `(a = 1, b = 2).b`).
      const index = objectType.names?.indexOf(e.field) ?? -1;
      if (index < 0) {
        this.report(error('E_UNKNOWN_FIELD', e.fieldSpan, objectType.names ? `the record has no field '${e.field}'` : `'.${e.field}' on a tuple`,
          objectType.names ? hintFor(e.field, objectType.names) : 'a tuple\'s elements are $t.0, $t.1, ...'));
        return INT64;
      }
      return objectType.elements[index]!;
    }
    let space: Space | undefined;
    if (objectType.kind === 'pointer' && objectType.target.kind === 'record') {
      // p->field, or p.field (0.2x dereferences a pointer for `.`): the record behind it, in full.
      const full = this.fullRecord(objectType.target)!;
      this.types.set(e.object, { ...objectType, target: full });
      space = spaceOf(objectType);
      objectType = full;
    } else if (objectType.kind === 'record') {
      const isArgs = e.object.kind === 'Builtin' && e.object.name === 'args';
      // A syscall's pointer arguments point into the calling process (as bpftrace reads them).
      space = isArgs ? (this.syscallTracepoints ? 'user' : undefined) : spaceOf(objectType);
    }
    if (objectType.kind !== 'record') {
      if (objectType.kind !== 'none') {
        this.report(error('E_TYPE', e.span, `'${e.arrow ? '->' : '.'}${e.field}' needs a struct, got ${typeName(objectType)}`,
          objectType.kind === 'int' ? 'cast it to a struct pointer first, e.g. ((struct task_struct *)p)->pid' : undefined));
      }
      return INT64;
    }
    if (objectType.fields.length === 0 && objectType.size > 0) {
      this.report(error('E_UNKNOWN_STRUCT', e.span, `the fields of ${objectType.name} are not known`));
      return INT64;
    }
    const f = objectType.fields.find((x) => x.name === e.field);
    if (!f) {
      this.report(error('E_UNKNOWN_FIELD', e.fieldSpan, `${objectType.name} has no field '${e.field}'`,
        hintFor(e.field, objectType.fields.map((x) => x.name))));
      return INT64;
    }
    // Every tracepoint the probe is attached to must have the field with the same type.
    if (e.object.kind === 'Builtin' && e.object.name === 'args') {
      for (const fmt of this.tracepointFormats()) {
        const other = fmt.fields.find((x) => x.name === e.field);
        if (!other) {
          this.report(error('E_UNKNOWN_FIELD', e.fieldSpan, `tracepoint ${fmt.category}:${fmt.event} has no field '${e.field}'`));
        } else if (!sameType(other.type, f.type)) {
          this.report(error('E_TYPE_MISMATCH', e.fieldSpan,
            `field '${e.field}' has type ${typeName(f.type)} in one tracepoint and ${typeName(other.type)} in ${fmt.category}:${fmt.event}`));
        }
      }
    }
    if (f.type.kind === 'array' && f.type.element.kind === 'int' && f.type.element.bits === 8) {
      return str(f.type.length);
    }
    // `__data_loc char[] name`: the field is a descriptor; the value is a pointer to the data
    // in the record (codegen computes it), so str(args->name) reads the string.
    const loc = e.object.kind === 'Builtin' && e.object.name === 'args' ? this.dataLocOf(e.field) : undefined;
    if (loc) return { kind: 'pointer', target: loc.element };
    return withSpace(f.type, space);
  }

  private binary(e: Extract<Expr, { kind: 'Binary' }>): Type {
    const a = this.expr(e.left);
    const b = this.expr(e.right);
    // As bpftrace 0.17, every result is 64 bits, signed only if both operands are (a comparison's,
    // && and || too: `!0 < -1` compares unsigned); a shift's if its left one is.
    const signedA = a.kind === 'int' && a.signed;
    const signedB = b.kind === 'int' && b.signed;
    if (e.op === '&&' || e.op === '||') return signedA && signedB ? INT64 : UINT64;
    if (a.kind === 'string' || b.kind === 'string') {
      if ((e.op === '==' || e.op === '!=') && a.kind === 'string' && b.kind === 'string') return UINT64;
      this.report(error('E_TYPE', e.opSpan, `'${e.op}' cannot be applied to ${typeName(a)} and ${typeName(b)}`,
        a.kind === 'string' && b.kind === 'string' ? 'strings can only be compared with == and !=' : undefined));
      return INT64;
    }
    const ints = (t: Type) => t.kind === 'int' || t.kind === 'pointer';
    if (!ints(a) || !ints(b)) {
      this.report(error('E_TYPE', e.opSpan, `'${e.op}' cannot be applied to ${typeName(a)} and ${typeName(b)}`));
      return INT64;
    }
    // pointer ± integer (and integer + pointer) is a pointer of that type, moved by whole elements, as in C and bpftrace.
    if (a.kind === 'pointer' && b.kind === 'int' && (e.op === '+' || e.op === '-')) return a;
    if (a.kind === 'int' && b.kind === 'pointer' && e.op === '+') return b;
    this.signWarnings(e.op, e.opSpan, e.left, a, e.right, b);
    if (e.op === '<<' || e.op === '>>') return signedA ? INT64 : UINT64;
    return signedA && signedB ? INT64 : UINT64;
  }

  /** bpftrace 0.17's warnings on `left op right` (also `@m op= v`) for operands of these types. */
  private signWarnings(op: BinaryOp, span: Span, left: Expr, a: Type, right: Expr, b: Type): void {
    const signedA = a.kind === 'int' && a.signed;
    const signedB = b.kind === 'int' && b.signed;
    // A non-negative constant counts as unsigned where that helps.
    if (signedA !== signedB && !this.isNonNegativeConstant(signedA ? left : right)) {
      if (['<', '<=', '>', '>=', '==', '!='].includes(op)) {
        this.report(warning('W_SIGN_COMPARE', span,
          `comparison of integers of different signs: '${typeName(a)}' and '${typeName(b)}' can lead to undefined behavior`));
      } else if (['+', '-', '*', '/', '%'].includes(op)) {
        this.report(warning('W_SIGN_ARITH', span,
          `arithmetic on integers of different signs: '${typeName(a)}' and '${typeName(b)}' can lead to undefined behavior`));
      }
    }
    // BPF divides unsigned: any operand that may be negative is worth a warning.
    if ((op === '/' || op === '%')
      && ((signedA && !this.isNonNegativeConstant(left)) || (signedB && !this.isNonNegativeConstant(right)))) {
      this.report(warning('W_SIGNED_DIV', span,
        `signed operands for '${op}' can lead to undefined behavior (cast to unsigned to silence warning)`));
    }
  }

  private isNonNegativeConstant(e: Expr): boolean {
    const v = this.constant(e);
    return v !== undefined && v >= 0n;
  }

  /** Types a call by its function's record and rule; an aggregation is given the map it is assigned to. */
  private call(c: Call, into?: MapRef): Type {
    const name = functionNamed(c.name);
    if (!name) {
      this.report(error('E_UNKNOWN_FUNCTION', c.nameSpan, `unknown function ${c.name}()`, hintFor(c.name, FUNCTION_NAMES)));
      c.args.forEach((a) => this.expr(a));
      return INT64; // reported once; an int keeps the rest of the statement from cascading
    }
    const record = BUILTIN_FUNCTIONS[name];
    // An aggregation checks its own arguments (and outside `@m = agg(...)` the statement reports it).
    if (record.aggregation) return FUNCTION_CHECKS[name](this, c, into);
    if (!this.checkArity(c, record.minArgs, record.maxArgs)) {
      c.args.forEach((a) => this.expr(a));
      return NONE;
    }
    if (record.unsafe && !this.options.unsafe) {
      this.report(error('E_UNSAFE', c.span, `${c.name}() is an unsafe function being used in safe mode`,
        'run with --unsafe to allow it'));
    }
    if (record.kfuncs) checkKfuncCalls(this, c, record.kfuncs);
    return FUNCTION_CHECKS[name](this, c);
  }

  requireAssigned(target: MapRef, hint = false): void {
    const name = mapName(target);
    if (this.maps.has(name) || this.collecting) return;
    this.report(error('E_UNDEFINED_MAP', target.span, `map ${name} is used but never assigned`,
      hint ? hintFor(name, [...this.maps.keys()]) : undefined));
  }

  addEvent(at: Expr, kind: EventKind, d: EventDetails): void {
    if (this.collecting) return;
    const layout = tupleLayout(d.fieldTypes);
    const fields = d.fieldTypes.map((type, i) => ({ type, offset: 8 + layout.offsets[i]! }));
    const spec: EventSpec = {
      id: this.events.length,
      kind,
      format: d.format,
      map: d.map,
      top: d.top,
      div: d.div,
      separator: d.separator,
      fields,
      size: 8 + Math.ceil(layout.size / 8) * 8,
      span: at.span,
      ...(at.kind === 'Call' && at.expandedFrom ? { expandedFrom: at.expandedFrom } : {}),
    };
    this.events.push(spec);
    this.eventOf.set(at, spec);
  }
}

/** Where memory other than the kernel's is: the traced process's, or (`any`) not known. */
type Space = 'user' | 'any';

function spaceOf(t: Type): Space | undefined {
  if (t.kind !== 'pointer' && t.kind !== 'record') return undefined;
  return t.userSpace ? 'user' : t.anySpace ? 'any' : undefined;
}

/**
 * Marks pointers (and records) reached through user memory, or memory of no known space, so that
 * codegen reads them with probe_read_user, or bpf_probe_read.
 */
function withSpace(t: Type, space: Space | undefined): Type {
  if (!space) return t;
  const mark = space === 'user' ? { userSpace: true } : { anySpace: true };
  if (t.kind === 'pointer') return { ...t, ...mark };
  if (t.kind === 'record') return { ...t, ...mark } as Type;
  // The elements of an array in user memory are there too (e.g. `char *names[2]` of a user struct).
  if (t.kind === 'array') return { ...t, element: withSpace(t.element, space) };
  return t;
}

/** The type rule of builtin variables whose type is the one in their record. */
function tableType(): undefined {
  return undefined;
}

/** probe and func: room for the longest such name of the probe's targets (targetNameBytes). */
function targetNameType(c: Checker, name: string): Type {
  return str(targetNameBytes(c.targets, name === 'func' ? 'func' : 'probe'));
}

/** kstack and ustack: their record's, in the stack_mode of the run (build_id is for ustack only). */
function stackType(c: Checker, name: string): Type | undefined {
  const mode = name === 'kstack' && c.stackMode === 'build_id' ? 'bpftrace' : c.stackMode;
  return mode === 'bpftrace' ? undefined : { kind: name as 'kstack' | 'ustack', depth: MAX_STACK_DEPTH, mode };
}
