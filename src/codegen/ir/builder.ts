// A small typed builder for LLVM 14 IR text (typed pointers). Every instruction goes through
// here, so the rest of codegen never pastes IR strings together by hand.

/** An IR type, spelled as LLVM spells it (`i64`, `i8*`, `[16 x i8]`, `{ i64, [16 x i8] }`). */
export type IrType = string;

export interface IrValue {
  readonly type: IrType;
  /** `%3`, `@g`, or a constant such as `42`, `null`. */
  readonly ref: string;
}

export const i1 = 'i1';
export const i8 = 'i8';
export const i16 = 'i16';
export const i32 = 'i32';
export const i64 = 'i64';
export const i8p = 'i8*';

export function intType(bits: number): IrType {
  return `i${bits}`;
}

export function ptr(t: IrType): IrType {
  return `${t}*`;
}

export function arrayType(length: number, element: IrType): IrType {
  return `[${length} x ${element}]`;
}

export function constInt(type: IrType, value: bigint | number): IrValue {
  return { type, ref: BigInt.asIntN(Number(type.slice(1)) || 64, BigInt(value)).toString() };
}

/** Bytes of the IR types the builder allocates: iN, [N x T]. */
export function byteSize(type: IrType): number {
  const array = /^\[(\d+) x (.+)\]$/.exec(type);
  if (array) return Number(array[1]) * byteSize(array[2]!);
  if (/^i\d+$/.test(type)) return Math.max(1, Number(type.slice(1)) / 8);
  if (type.endsWith('*')) return 8;
  throw new Error(`internal error: no size for IR type ${type}`);
}

/** The largest column a DILocation may have (LLVM stores it in 16 bits). */
const MAX_DEBUG_COLUMN = 65535;

/** A kfunc's return or parameter type, as far as its declaration needs it. */
export type KfuncType = 'void' | { readonly int: 32 | 64; readonly signed: boolean } | { readonly pointerTo: string };

/**
 * Debug metadata. Every function gets a DISubprogram, from which LLVM's BPF backend emits BTF
 * func_info (the verifier requires it for programs with callbacks), and statements get line
 * locations, which become BTF line_info: verifier logs then point back at the script.
 */
export class DebugInfo {
  private readonly nodes: string[] = [];
  private readonly locations = new Map<string, number>();
  private readonly subroutineTypes = new Map<number, number>();
  private readonly globals: number[] = [];
  private int?: number;
  private u64?: number;
  private readonly file: number;
  private readonly unit: number;
  private readonly long: number;
  private readonly voidPointer: number;

  /**
   * `source`, when given, is embedded in the file's metadata: LLVM copies its lines into BTF
   * line_info, so `bpftool prog dump xlated` and verifier logs show the script's own text.
   */
  constructor(fileName: string, source?: string) {
    const text = source === undefined ? '' : `, source: "${metadataString(source)}"`;
    this.file = this.node(`!DIFile(filename: ${JSON.stringify(fileName)}, directory: "/"${text})`);
    this.unit = this.node(`distinct !DICompileUnit(language: DW_LANG_C99, file: !${this.file}, producer: "tracelet", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug)`);
    this.long = this.node('!DIBasicType(name: "long", size: 64, encoding: DW_ATE_signed)');
    this.voidPointer = this.node('!DIDerivedType(tag: DW_TAG_pointer_type, baseType: null, size: 64)');
  }

  private node(text: string): number {
    this.nodes.push(text);
    return this.nodes.length - 1;
  }

  /**
   * A DISubprogram for a function taking pointer parameters and returning long. The kernel
   * rejects BTF function prototypes with unnamed parameters, so each one is named.
   */
  subprogram(name: string, line: number, params: readonly string[], internal: boolean): number {
    let type = this.subroutineTypes.get(params.length);
    if (type === undefined) {
      const types = [this.long, ...params.map(() => this.voidPointer)].map((n) => `!${n}`);
      type = this.node(`!DISubroutineType(types: !{${types.join(', ')}})`);
      this.subroutineTypes.set(params.length, type);
    }
    const id = this.node('');
    const args = params.map((p, i) => this.node(
      `!DILocalVariable(name: "${p}", arg: ${i + 1}, scope: !${id}, file: !${this.file}, line: ${line}, type: !${this.voidPointer})`));
    const flags = `DISPFlagDefinition | DISPFlagOptimized${internal ? ' | DISPFlagLocalToUnit' : ''}`;
    this.nodes[id] = `distinct !DISubprogram(name: "${name}", scope: !${this.file}, file: !${this.file}, line: ${line}, type: !${type}, scopeLine: ${line}, flags: DIFlagPrototyped, spFlags: ${flags}, unit: !${this.unit}, retainedNodes: !{${args.map((a) => `!${a}`).join(', ')}})`;
    return id;
  }

  /**
   * The type of a BTF-defined map, as libbpf reads it: a struct whose members are pointers to
   * arrays of int whose lengths are the values (`int (*max_entries)[4096]`, what libbpf's
   * `__uint(max_entries, 4096)` declares). Returns the node to attach to the global `name`.
   */
  mapDefinition(name: string, fields: readonly (readonly [string, number])[]): number {
    this.int ??= this.node('!DIBasicType(name: "int", size: 32, encoding: DW_ATE_signed)');
    const struct = this.node('');
    const members = fields.map(([field, value], i) => {
      const range = this.node(`!DISubrange(count: ${value})`);
      const array = this.node(`!DICompositeType(tag: DW_TAG_array_type, baseType: !${this.int}, size: ${32 * value}, elements: !{!${range}})`);
      const pointer = this.node(`!DIDerivedType(tag: DW_TAG_pointer_type, baseType: !${array}, size: 64)`);
      return this.node(`!DIDerivedType(tag: DW_TAG_member, name: "${field}", scope: !${struct}, file: !${this.file}, baseType: !${pointer}, size: 64, offset: ${64 * i})`);
    });
    this.nodes[struct] = `distinct !DICompositeType(tag: DW_TAG_structure_type, file: !${this.file}, size: ${64 * fields.length}, elements: !{${members.map((m) => `!${m}`).join(', ')}})`;
    const variable = this.node(`distinct !DIGlobalVariable(name: "${name}", scope: !${this.unit}, file: !${this.file}, type: !${struct}, isLocal: false, isDefinition: true)`);
    const expression = this.node(`!DIGlobalVariableExpression(var: !${variable}, expr: !DIExpression())`);
    this.globals.push(expression);
    return expression;
  }

  /** An array of `words` u64s, the type of a global variable `name` (for its BTF). */
  globalWords(name: string, words: number): number {
    this.u64 ??= this.node('!DIBasicType(name: "unsigned long", size: 64, encoding: DW_ATE_unsigned)');
    const range = this.node(`!DISubrange(count: ${words})`);
    const array = this.node(`!DICompositeType(tag: DW_TAG_array_type, baseType: !${this.u64}, size: ${64 * words}, elements: !{!${range}})`);
    const variable = this.node(`distinct !DIGlobalVariable(name: "${name}", scope: !${this.unit}, file: !${this.file}, type: !${array}, isLocal: false, isDefinition: true)`);
    const expression = this.node(`!DIGlobalVariableExpression(var: !${variable}, expr: !DIExpression())`);
    this.globals.push(expression);
    return expression;
  }

  /**
   * The declaration of a kernel function (kfunc) called from BPF: LLVM's BPF backend emits it as
   * an extern BTF FUNC in the `.ksyms` section, which libbpf resolves against the kernel's BTF
   * (it checks the kinds of the return and parameter types, so a pointer is to a named struct).
   */
  kernelFunction(name: string, returns: KfuncType, params: readonly KfuncType[]): number {
    const type = this.node(`!DISubroutineType(types: !{${[returns, ...params].map((t) => this.kfuncType(t)).join(', ')}})`);
    return this.node(`!DISubprogram(name: "${name}", scope: !${this.file}, file: !${this.file}, type: !${type}, flags: DIFlagPrototyped, spFlags: DISPFlagOptimized)`);
  }

  private kfuncType(t: KfuncType): string {
    if (t === 'void') return 'null';
    if ('int' in t) return `!${this.node(`!DIBasicType(name: "${t.signed ? '' : 'u'}int${t.int}", size: ${t.int}, encoding: ${t.signed ? 'DW_ATE_signed' : 'DW_ATE_unsigned'})`)}`;
    const struct = this.node(`!DICompositeType(tag: DW_TAG_structure_type, name: "${t.pointerTo}", file: !${this.file}, size: 0, elements: !{})`);
    return `!${this.node(`!DIDerivedType(tag: DW_TAG_pointer_type, baseType: !${struct}, size: 64)`)}`;
  }

  location(line: number, rawColumn: number, scope: number): number {
    // Long one-line scripts have larger columns: the last representable one stands for them.
    const column = Math.min(rawColumn, MAX_DEBUG_COLUMN);
    const key = `${line}:${column}:${scope}`;
    let id = this.locations.get(key);
    if (id === undefined) {
      id = this.node(`!DILocation(line: ${line}, column: ${column}, scope: !${scope})`);
      this.locations.set(key, id);
    }
    return id;
  }

  toString(): string {
    const flags = this.nodes.length;
    // The compile unit lists the global variables (the maps), else LLVM emits no BTF for them.
    const unit = this.nodes[this.unit]!.replace(/\)$/, `, globals: !{${this.globals.map((g) => `!${g}`).join(', ')}})`);
    return [
      `!llvm.dbg.cu = !{!${this.unit}}`,
      `!llvm.module.flags = !{!${flags}, !${flags + 1}}`,
      ...this.nodes.map((n, i) => `!${i} = ${i === this.unit ? unit : n}`),
      `!${flags} = !{i32 7, !"Dwarf Version", i32 4}`,
      `!${flags + 1} = !{i32 2, !"Debug Info Version", i32 3}`,
    ].join('\n');
  }
}

/** A string as LLVM metadata spells it: printable ASCII but `"` and `\`, the rest as \XX bytes. */
function metadataString(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export class Label {
  constructor(readonly name: string) {}
}

/** Builds one function. Allocas go to the entry block so LLVM's mem2reg can promote them. */
/** llvm.memset of `size` zero bytes at `dest` (an `i8*` argument, with its alignment if known). */
function memsetCall(dest: string, size: number): string {
  return `call void @llvm.memset.p0i8.i64(${dest}, i8 0, i64 ${size}, i1 0)`;
}

export class FunctionBuilder {
  private readonly entryAllocas: string[] = [];
  private readonly body: string[] = [];
  private nextId = 0;
  private nextLabel = 0;
  private terminated = false;
  private readonly scopes: { bytes: IrValue; size: number }[][] = [];
  /**
   * Alignment (bytes) known of pointer values, by ref: stack slots, pointers codegen vouches for
   * (assumeAligned) and constant offsets from them. Loads, stores and copies through them get
   * it: BPF has no unaligned access, so LLVM splits an `align 1` i64 into 8 byte loads or stores.
   */
  private readonly aligns = new Map<string, number>();
  private debug?: { info: DebugInfo; subprogram: number; location?: number };

  /**
   * `section` names a program's ELF section; a function without one is an internal subprogram
   * (e.g. a bpf_for_each_map_elem callback) that libbpf links into the programs calling it.
   */
  constructor(
    readonly name: string,
    readonly section: string | undefined,
    readonly params: readonly { type: IrType; name: string }[],
  ) {}

  /** The function as an `i8*` constant, for helpers that take a callback. */
  get pointer(): IrValue {
    const sig = `i64 (${this.params.map((p) => p.type).join(', ')})*`;
    return { type: i8p, ref: `bitcast (${sig} @${this.name} to i8*)` };
  }

  /** Gives the function its debug subprogram; `line` is where its code starts in the script. */
  attachDebug(info: DebugInfo, line: number): void {
    const params = this.params.map((p) => p.name);
    this.debug = { info, subprogram: info.subprogram(this.name, line, params, this.section === undefined) };
  }

  /** The script position of the instructions emitted from now on. */
  setLocation(line: number, column: number): void {
    if (this.debug) this.debug.location = this.debug.info.location(line, column, this.debug.subprogram);
  }

  param(index: number): IrValue {
    const p = this.params[index]!;
    return { type: p.type, ref: `%${p.name}` };
  }

  /** Declares `pointer` `align`-byte aligned (e.g. a program's context, a ring buffer record, a map value). */
  assumeAligned(pointer: IrValue, align: number): void {
    this.aligns.set(pointer.ref, align);
  }

  /** The alignment known of `pointer`: 1 when nothing is known. */
  alignOf(pointer: IrValue): number {
    return this.aligns.get(pointer.ref) ?? 1;
  }

  /** What a load or store of `type` through `pointer` may claim: its known alignment, at most the type's size. */
  private accessAlign(pointer: IrValue, type: IrType): number {
    const natural = /^i\d+$/.test(type) || type.endsWith('*') ? byteSize(type) : 8;
    return Math.min(this.alignOf(pointer), natural);
  }

  private tmp(): string {
    return `%t${this.nextId++}`;
  }

  private emit(line: string): void {
    if (this.terminated) {
      // Code after a terminator (e.g. after `return`) is unreachable: park it in a fresh block.
      this.body.push(`dead${this.nextLabel++}:`);
      this.terminated = false;
    }
    const location = this.debug?.location;
    this.body.push(location === undefined ? `  ${line}` : `  ${line}, !dbg !${location}`);
  }

  private value(type: IrType, instruction: string): IrValue {
    const ref = this.tmp();
    this.emit(`${ref} = ${instruction}`);
    return { type, ref };
  }

  comment(text: string): void {
    if (!this.terminated) this.body.push(`  ; ${text.replace(/\n/g, ' ')}`);
  }

  label(hint: string): Label {
    return new Label(`${hint}${this.nextLabel++}`);
  }

  /** Starts emitting into `label` (the previous block must have been terminated). */
  place(label: Label): void {
    if (!this.terminated) this.body.push(`  br label %${label.name}`);
    this.body.push(`${label.name}:`);
    this.terminated = false;
  }

  alloca(type: IrType, align = 8): IrValue {
    const ref = this.tmp();
    this.entryAllocas.push(`  ${ref} = alloca ${type}, align ${align}`);
    this.aligns.set(ref, align);
    return { type: ptr(type), ref };
  }

  /** Stack memory for the whole function, zeroed in the entry block (so on every path). */
  zeroedAlloca(type: IrType): IrValue {
    const slot = this.alloca(type, 8);
    if (/^i\d+$/.test(type)) {
      this.entryAllocas.push(`  store ${type} 0, ${slot.type} ${slot.ref}, align 8`);
    } else {
      const bytes = this.tmp();
      this.entryAllocas.push(`  ${bytes} = bitcast ${slot.type} ${slot.ref} to i8*`, `  ${memsetCall(`i8* align 8 ${bytes}`, byteSize(type))}`);
    }
    return slot;
  }

  /**
   * Stack memory that lives until the end of the current scope. Lifetime markers let LLVM give
   * the same stack bytes to the temporaries of different statements: BPF has only 512 bytes.
   */
  scratch(type: IrType, align = 8): IrValue {
    const slot = this.alloca(type, align);
    // The i8* view is made in the entry block too, so it dominates the end of any scope.
    const bytes = { type: i8p, ref: this.tmp() };
    this.entryAllocas.push(`  ${bytes.ref} = bitcast ${slot.type} ${slot.ref} to i8*`);
    this.aligns.set(bytes.ref, align);
    this.emit(`call void @llvm.lifetime.start.p0i8(i64 ${byteSize(type)}, i8* ${bytes.ref})`);
    this.scopes.at(-1)?.push({ bytes, size: byteSize(type) });
    return slot;
  }

  beginScope(): void {
    this.scopes.push([]);
  }

  endScope(): void {
    const ended = this.scopes.pop() ?? [];
    if (this.terminated) return;
    for (const s of ended) this.emit(`call void @llvm.lifetime.end.p0i8(i64 ${s.size}, i8* ${s.bytes.ref})`);
  }

  /** `align`: what the address is known to be aligned to; by default what the builder knows of it. */
  load(pointer: IrValue, align?: number): IrValue {
    const type = pointer.type.slice(0, -1);
    return this.value(type, `load ${type}, ${pointer.type} ${pointer.ref}, align ${align ?? this.accessAlign(pointer, type)}`);
  }

  loadVolatile(pointer: IrValue): IrValue {
    const type = pointer.type.slice(0, -1);
    return this.value(type, `load volatile ${type}, ${pointer.type} ${pointer.ref}`);
  }

  store(value: IrValue, pointer: IrValue, align?: number): void {
    this.emit(`store ${value.type} ${value.ref}, ${pointer.type} ${pointer.ref}, align ${align ?? this.accessAlign(pointer, value.type)}`);
  }

  /** llvm.memcpy (declared by the module), with the alignment known of each side. */
  memcpy(dest: IrValue, src: IrValue, size: number): void {
    const d = this.bitcast(dest, i8p);
    const s = this.bitcast(src, i8p);
    this.emit(`call void @llvm.memcpy.p0i8.p0i8.i64(${this.alignedArg(d)}, ${this.alignedArg(s)}, i64 ${size}, i1 0)`);
  }

  /** llvm.memset to zero (declared by the module), with the alignment known of `dest`. */
  memset(dest: IrValue, size: number): void {
    this.emit(memsetCall(this.alignedArg(this.bitcast(dest, i8p)), size));
  }

  private alignedArg(pointer: IrValue): string {
    const align = this.alignOf(pointer);
    return align > 1 ? `i8* align ${align} ${pointer.ref}` : `i8* ${pointer.ref}`;
  }

  /** `getelementptr inbounds` with constant or value indices. */
  gep(resultElement: IrType, pointer: IrValue, indices: readonly (number | IrValue)[]): IrValue {
    const base = pointer.type.slice(0, -1);
    const idx = indices.map((i) => (typeof i === 'number' ? `i32 ${i}` : `${i.type} ${i.ref}`)).join(', ');
    return this.value(ptr(resultElement), `getelementptr inbounds ${base}, ${pointer.type} ${pointer.ref}, ${idx}`);
  }

  /** Byte offset into any pointer, as `i8*` then cast to `target*`. */
  byteOffset(pointer: IrValue, offset: number | IrValue, target: IrType = i8): IrValue {
    const bytes = this.bitcast(pointer, i8p);
    const off = typeof offset === 'number' ? constInt(i64, offset) : offset;
    const p = this.value(i8p, `getelementptr inbounds i8, i8* ${bytes.ref}, ${off.type} ${off.ref}`);
    if (typeof offset === 'number') {
      // The lowest set bit of the offset bounds what stays known of the base's alignment.
      const offsetAlign = offset === 0 ? Infinity : offset & -offset;
      this.aligns.set(p.ref, Math.min(this.alignOf(bytes), offsetAlign));
    }
    return target === i8 ? p : this.bitcast(p, ptr(target));
  }

  bitcast(v: IrValue, type: IrType): IrValue {
    if (v.type === type) return v;
    const cast = this.value(type, `bitcast ${v.type} ${v.ref} to ${type}`);
    const align = this.aligns.get(v.ref);
    if (align !== undefined) this.aligns.set(cast.ref, align);
    return cast;
  }

  ptrToInt(v: IrValue): IrValue {
    return this.value(i64, `ptrtoint ${v.type} ${v.ref} to i64`);
  }

  intToPtr(v: IrValue, type: IrType): IrValue {
    return this.value(type, `inttoptr ${v.type} ${v.ref} to ${type}`);
  }

  /** Integer width change; sign-extends when `signed`. */
  intCast(v: IrValue, type: IrType, signed: boolean): IrValue {
    const from = Number(v.type.slice(1));
    const to = Number(type.slice(1));
    if (from === to) return v;
    if (from > to) return this.value(type, `trunc ${v.type} ${v.ref} to ${type}`);
    return this.value(type, `${signed ? 'sext' : 'zext'} ${v.type} ${v.ref} to ${type}`);
  }

  binary(op: string, a: IrValue, b: IrValue): IrValue {
    return this.value(a.type, `${op} ${a.type} ${a.ref}, ${b.ref}`);
  }

  icmp(predicate: string, a: IrValue, b: IrValue): IrValue {
    return this.value(i1, `icmp ${predicate} ${a.type} ${a.ref}, ${b.ref}`);
  }

  select(condition: IrValue, a: IrValue, b: IrValue): IrValue {
    return this.value(a.type, `select i1 ${condition.ref}, ${a.type} ${a.ref}, ${b.type} ${b.ref}`);
  }

  phi(type: IrType, incoming: readonly [IrValue, Label][]): IrValue {
    const list = incoming.map(([v, l]) => `[ ${v.ref}, %${l.name} ]`).join(', ');
    return this.value(type, `phi ${type} ${list}`);
  }

  atomicAdd(pointer: IrValue, value: IrValue): void {
    this.emit(`atomicrmw add ${pointer.type} ${pointer.ref}, ${value.type} ${value.ref} seq_cst`);
  }

  /** Adds atomically and returns the value before (BPF_ATOMIC_FETCH_ADD). */
  atomicFetchAdd(pointer: IrValue, value: IrValue): IrValue {
    return this.value(value.type, `atomicrmw add ${pointer.type} ${pointer.ref}, ${value.type} ${value.ref} seq_cst`);
  }

  /** Calls BPF helper `id`; the BPF backend turns a call to a constant address into `call id`. */
  callHelper(id: number, ret: IrType, args: readonly IrValue[]): IrValue {
    const sig = `${ret} (${args.map((a) => a.type).join(', ')})*`;
    const argList = args.map((a) => `${a.type} ${a.ref}`).join(', ');
    return this.value(ret, `call ${ret} inttoptr (i64 ${id} to ${sig})(${argList})`);
  }

  /** Calls a declared function or intrinsic. */
  call(ret: IrType, name: string, args: readonly IrValue[]): IrValue | undefined {
    const argList = args.map((a) => `${a.type} ${a.ref}`).join(', ');
    if (ret === 'void') {
      this.emit(`call void @${name}(${argList})`);
      return undefined;
    }
    return this.value(ret, `call ${ret} @${name}(${argList})`);
  }

  br(label: Label): void {
    this.emit(`br label %${label.name}`);
    this.terminated = true;
  }

  condBr(condition: IrValue, then: Label, otherwise: Label): void {
    this.emit(`br i1 ${condition.ref}, label %${then.name}, label %${otherwise.name}`);
    this.terminated = true;
  }

  ret(v: IrValue): void {
    this.emit(`ret ${v.type} ${v.ref}`);
    this.terminated = true;
  }

  get isTerminated(): boolean {
    return this.terminated;
  }

  toString(): string {
    const params = this.params.map((p) => `${p.type} %${p.name}`).join(', ');
    return [
      `define ${this.section === undefined ? 'internal ' : ''}i64 @${this.name}(${params})`
        + `${this.section === undefined ? '' : ` section "${this.section}"`}`
        + `${this.debug ? ` !dbg !${this.debug.subprogram}` : ''} {`,
      'entry:',
      ...this.entryAllocas,
      ...this.body,
      '}',
      '',
    ].join('\n');
  }
}

/** A module: functions plus the declarations they need. */
export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];
  private readonly declarations = new Set<string>();
  private readonly kfuncs = new Set<string>();
  private readonly globals: string[] = [];

  constructor(readonly debug?: DebugInfo) {}

  /** A global variable definition, e.g. the license section. */
  global(line: string): void {
    this.globals.push(line);
  }

  declare(line: string): void {
    this.declarations.add(line);
  }

  /** Declares kernel function `name` once (pointers are i8* in the IR, typed in its BTF). */
  declareKfunc(name: string, returns: KfuncType, params: readonly KfuncType[]): void {
    if (this.kfuncs.has(name)) return;
    this.kfuncs.add(name);
    const ir = (t: KfuncType): IrType => (t === 'void' ? 'void' : 'int' in t ? intType(t.int) : i8p);
    const debug = this.debug ? ` !dbg !${this.debug.kernelFunction(name, returns, params)}` : '';
    this.declarations.add(`declare${debug} ${ir(returns)} @${name}(${params.map(ir).join(', ')}) section ".ksyms"`);
  }

  addFunction(fn: FunctionBuilder): void {
    this.functions.push(fn);
  }

  toString(): string {
    return [
      '; tracelet generated module',
      'target datalayout = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"',
      'target triple = "bpf"',
      '',
      ...this.globals,
      '',
      ...this.functions.map(String),
      ...this.declarations,
      '',
      this.debug ? this.debug.toString() : '',
      '',
    ].join('\n');
  }
}
