// A lazy reader of kernel BTF (/sys/kernel/btf/vmlinux). The file is read once; one pass records
// where each type starts; names are indexed on first lookup; a named type becomes a `Type` only
// when asked for. Records reached through a pointer come back opaque (fields: []), so conversion
// never recurses through the kernel's type graph; the caller looks them up again by name.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { enumNames, type IntBits, type RecordField, type Type } from '../model/types.js';
import { symbolNatives, type NativeBtfOffsets } from './natives.js';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

// BTF_KIND_*
const K = {
  UNKN: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8,
  VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15,
  FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

const BTF_INT_SIGNED = 1;
const BTF_INT_BOOL = 4;

/** A function parameter or raw-tracepoint argument. */
export interface BtfParam {
  /** The parameter name, or `argN` when BTF has none. */
  readonly name: string;
  readonly type: Type;
  /** The C spelling of the type, e.g. `struct task_struct *`. */
  readonly typeName: string;
}

export interface BtfFunction {
  readonly name: string;
  readonly params: readonly BtfParam[];
  readonly returnType: Type;
  readonly returnTypeName: string;
}

export class BtfError extends Error {}

export class Btf {
  private readonly buf: Buffer;
  private readonly dv: DataView;
  /** The blob as 32-bit words (BTF type records are 4-byte aligned). */
  private readonly w: Uint32Array;
  /** name_off of each type id. */
  private readonly nameOffs: Uint32Array;
  private readonly strStart: number;
  private readonly strEnd: number;
  /** Byte offset of each type id's btf_type (index = id; 0 = void). */
  private readonly offsets: Uint32Array;
  private readonly count: number;
  private enumeratorIndex?: Map<string, bigint>;
  private readonly cache = new Map<number, Type>();

  /** Reads and indexes a BTF blob (the whole file; only the type offsets are computed here). */
  constructor(buf: Buffer) {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // Word access needs a 4-byte aligned copy when the Buffer sits at an odd offset of its pool.
    const aligned = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
    this.w = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >>> 2);
    if (buf.length < 24 || this.dv.getUint16(0, true) !== 0xeb9f) throw new BtfError('not a BTF blob (bad magic)');
    const hdrLen = this.u32(4);
    const typeOff = this.u32(8);
    const typeLen = this.u32(12);
    const strOff = this.u32(16);
    const strLen = this.u32(20);
    this.strStart = hdrLen + strOff;
    this.strEnd = this.strStart + strLen;
    const typeStart = hdrLen + typeOff;
    const typeEnd = typeStart + typeLen;
    if (typeEnd > buf.length || this.strEnd > buf.length) throw new BtfError('truncated BTF blob');
    if (typeStart % 4 !== 0) throw new BtfError('misaligned BTF type section');
    // Where each type starts: natively when the runtime has loaded its addon (a short run keeps
    // this loop over ~150k types in V8's interpreter, ~20 ms), else here.
    const scanned = symbolNatives()?.btfTypeOffsets(this.w, typeStart, typeEnd) ?? scanTypes(this.w, typeStart, typeEnd);
    this.offsets = scanned.offsets;
    this.nameOffs = scanned.nameOffs;
    this.count = scanned.offsets.length;
  }

  static fromFile(path = VMLINUX_BTF): Btf {
    return new Btf(mappedReadOnly(path) ?? readFileSync(path));
  }

  /** Number of types including void (id 0). */
  get typeCount(): number {
    return this.count;
  }

  // ---- raw access ----

  private u32(p: number): number {
    return (p & 3) === 0 ? this.w[p >>> 2]! : this.dv.getUint32(p, true);
  }

  private str(off: number): string {
    if (off === 0) return '';
    const start = this.strStart + off;
    const end = this.buf.indexOf(0, start);
    return this.buf.toString('latin1', start, end < 0 || end > this.strEnd ? this.strEnd : end);
  }

  kindOf(id: number): number {
    if (id === 0) return K.UNKN;
    return (this.u32(this.offsets[id]! + 4) >>> 24) & 0x1f;
  }

  nameOf(id: number): string {
    if (id === 0) return '';
    return this.str(this.u32(this.offsets[id]!));
  }

  private vlen(id: number): number {
    return this.u32(this.offsets[id]! + 4) & 0xffff;
  }

  private kindFlag(id: number): boolean {
    return (this.u32(this.offsets[id]! + 4) >>> 31) === 1;
  }

  /** `size` for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT, `type` for the others. */
  private sizeOrType(id: number): number {
    return this.u32(this.offsets[id]! + 8);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.count) throw new BtfError(`bad BTF type id ${id}`);
  }

  // ---- names ----

  private static keyPrefix(kind: number, flag: boolean): string {
    switch (kind) {
      case K.STRUCT: return 'struct ';
      case K.UNION: return 'union ';
      case K.ENUM: case K.ENUM64: return 'enum ';
      case K.FWD: return flag ? 'union ' : 'struct ';
      case K.FUNC: return 'func ';
      case K.DATASEC: return 'section ';
      case K.VAR: return 'var ';
      case K.DECL_TAG: return 'decl_tag ';
      default: return '';
    }
  }

  /** String-section offsets at which `name` is stored (normally one: BTF dedups strings). */
  private stringOffsets(name: string): number[] {
    const needle = Buffer.from(`\0${name}\0`, 'latin1');
    const out: number[] = [];
    let from = this.strStart;
    for (;;) {
      const at = this.buf.indexOf(needle, from);
      if (at < 0 || at + needle.length > this.strEnd) break;
      out.push(at + 1 - this.strStart);
      from = at + needle.length - 1;
    }
    return out;
  }

  /** Ids of the types whose name is `name` (any kind). */
  private idsNamed(name: string): number[] {
    const ids: number[] = [];
    if (!name) return ids;
    const offs = this.stringOffsets(name);
    const names = this.nameOffs;
    // indexOf is V8's builtin: as fast in a short run, whose code stays in the interpreter.
    for (const off of offs) {
      for (let id = names.indexOf(off, 1); id > 0; id = names.indexOf(off, id + 1)) ids.push(id);
    }
    return ids;
  }

  private static parseKey(key: string): { kinds: readonly number[] | undefined; name: string; union?: boolean } {
    const m = /^(struct|union|enum|func) (.+)$/.exec(key);
    if (!m) return { kinds: undefined, name: key };
    switch (m[1]) {
      case 'struct': return { kinds: [K.STRUCT, K.FWD], name: m[2]!, union: false };
      case 'union': return { kinds: [K.UNION, K.FWD], name: m[2]!, union: true };
      case 'enum': return { kinds: [K.ENUM, K.ENUM64], name: m[2]! };
      default: return { kinds: [K.FUNC], name: m[2]! };
    }
  }

  /** Plain names match ints, typedefs, floats — what C names without a tag. */
  private static readonly PLAIN_KINDS: readonly number[] = [K.INT, K.TYPEDEF, K.FLOAT];

  /**
   * The type id for a key: `struct task_struct`, `union x`, `enum x`, `func vfs_read`, or a plain
   * name (ints, typedefs). A complete definition is preferred over a forward declaration.
   * Lookups search the string section (memmem) and scan the name offsets; results are cached.
   */
  lookup(key: string): number | undefined {
    if (this.lookupCache.has(key)) return this.lookupCache.get(key);
    const { kinds, name, union } = Btf.parseKey(key);
    const want = kinds ?? Btf.PLAIN_KINDS;
    let fwd: number | undefined;
    let found: number | undefined;
    for (const id of this.idsNamed(name)) {
      const k = this.kindOf(id);
      if (!want.includes(k)) continue;
      if (k === K.FWD) {
        if (this.kindFlag(id) === union) fwd ??= id;
        continue;
      }
      found = id;
      break;
    }
    const result = found ?? fwd;
    this.lookupCache.set(key, result);
    return result;
  }

  private readonly lookupCache = new Map<string, number | undefined>();

  /** Ids of all types of one kind whose name starts with `prefix`, decoded lazily. */
  private namesWithPrefix(kind: number, prefix: string): string[] {
    const pre = Buffer.from(prefix, 'latin1');
    const out: string[] = [];
    for (let id = 1; id < this.count; id++) {
      const off = this.nameOffs[id]!;
      if (off === 0 || this.kindOf(id) !== kind) continue;
      const at = this.strStart + off;
      if (pre.length > 0 && this.buf.compare(pre, 0, pre.length, at, at + pre.length) !== 0) continue;
      out.push(this.str(off));
    }
    return out;
  }

  // ---- conversion to Type ----

  /** Strips typedef/const/volatile/restrict/type_tag. */
  resolve(id: number): number {
    let cur = id;
    for (let guard = 0; guard < 64; guard++) {
      const k = this.kindOf(cur);
      if (k === K.TYPEDEF || k === K.CONST || k === K.VOLATILE || k === K.RESTRICT || k === K.TYPE_TAG) {
        cur = this.sizeOrType(cur);
      } else {
        return cur;
      }
    }
    return cur;
  }

  /** Whether `id`'s qualifier chain (const, volatile, type tags...) carries the type tag `tag`. */
  private hasTypeTag(id: number, tag: string): boolean {
    let cur = id;
    for (let guard = 0; guard < 64; guard++) {
      const k = this.kindOf(cur);
      if (k === K.TYPE_TAG && this.nameOf(cur) === tag) return true;
      if (k !== K.CONST && k !== K.VOLATILE && k !== K.RESTRICT && k !== K.TYPE_TAG) return false;
      cur = this.sizeOrType(cur);
    }
    return false;
  }

  /** Strips const/volatile/restrict/type_tag but keeps typedefs (for names). */
  private stripQualifiers(id: number): number {
    let cur = id;
    for (let guard = 0; guard < 64; guard++) {
      const k = this.kindOf(cur);
      if (k === K.CONST || k === K.VOLATILE || k === K.RESTRICT || k === K.TYPE_TAG) cur = this.sizeOrType(cur);
      else return cur;
    }
    return cur;
  }

  /** The size in bytes of a type (0 for void/function). */
  sizeOf(id: number): number {
    const r = this.resolve(id);
    switch (this.kindOf(r)) {
      case K.INT: case K.STRUCT: case K.UNION: case K.ENUM: case K.ENUM64: case K.FLOAT: case K.DATASEC:
        return this.sizeOrType(r);
      case K.PTR: return 8;
      case K.ARRAY: {
        const p = this.offsets[r]! + 12;
        return this.sizeOf(this.u32(p)) * this.u32(p + 8);
      }
      default: return 0;
    }
  }

  /** The C spelling of a type, e.g. `struct task_struct *`, `const char *`, `u64`. */
  cName(id: number): string {
    if (id === 0) return 'void';
    const k = this.kindOf(id);
    switch (k) {
      case K.CONST: return `const ${this.cName(this.sizeOrType(id))}`;
      case K.VOLATILE: return `volatile ${this.cName(this.sizeOrType(id))}`;
      case K.RESTRICT: case K.TYPE_TAG: return this.cName(this.sizeOrType(id));
      case K.PTR: {
        const target = this.sizeOrType(id);
        const inner = this.cName(target);
        return inner.endsWith('*') ? `${inner}*` : `${inner} *`;
      }
      case K.ARRAY: {
        const p = this.offsets[id]! + 12;
        return `${this.cName(this.u32(p))}[${this.u32(p + 8)}]`;
      }
      case K.FUNC_PROTO: return 'void (*)()';
      default: {
        const name = this.nameOf(id);
        const prefix = Btf.keyPrefix(k, this.kindFlag(id));
        if (k === K.FUNC) return name;
        return name ? prefix + name : `${prefix}(anon)`.trim();
      }
    }
  }

  /**
   * A type by name: `struct task_struct`, `u64`, `unsigned int`, `enum x`, `struct foo *`. With
   * `opaque`, a record comes back without its fields (only its name and size: no conversion).
   */
  typeByName(name: string, opaque = false): Type | undefined {
    let n = name.trim().replace(/\s+/g, ' ');
    let pointers = 0;
    while (n.endsWith('*')) {
      pointers++;
      n = n.slice(0, -1).trim();
    }
    n = n.replace(/^(const |volatile )+/, '').replace(/ (const|volatile)$/, '').trim();
    let t: Type | undefined;
    if (n === 'void') t = { kind: 'none' };
    else {
      const id = this.lookup(n);
      if (id === undefined || this.kindOf(id) === K.FUNC) return undefined;
      t = this.typeOf(id, pointers === 0 && !opaque);
    }
    for (let i = 0; i < pointers; i++) t = { kind: 'pointer', target: t };
    return t;
  }

  /**
   * Converts a type id. `full` converts a struct/union with its fields; otherwise a named
   * struct/union comes back opaque (fields: []) — what a pointer target looks like.
   */
  typeOf(id: number, full = true): Type {
    this.checkId(id);
    const named = this.stripQualifiers(id);
    const r = this.resolve(id);
    const k = this.kindOf(r);
    if ((k === K.STRUCT || k === K.UNION || k === K.FWD) && !full) {
      const name = this.recordName(named, r);
      // Anonymous records have no name to look up by, so they are converted in place.
      if (name !== undefined) return { kind: 'record', name, size: k === K.FWD ? 0 : this.sizeOrType(r), fields: [] };
    }
    if (full) {
      const hit = this.cache.get(r);
      if (hit && (hit.kind !== 'record' || hit.name === this.recordName(named, r))) return hit;
    }
    const t = this.convert(named, r, k);
    if (full) this.cache.set(r, t);
    return t;
  }

  /** The name a record is looked up by: `struct x` / `union x`, or the typedef of an anonymous one. */
  private recordName(named: number, r: number): string | undefined {
    const k = this.kindOf(r);
    const n = this.nameOf(r);
    if (n) return (k === K.UNION || (k === K.FWD && this.kindFlag(r)) ? 'union ' : 'struct ') + n;
    // typedef struct { ... } foo_t;
    let cur = named;
    while (this.kindOf(cur) === K.TYPEDEF) {
      const tn = this.nameOf(cur);
      const next = this.stripQualifiers(this.sizeOrType(cur));
      if (next === r && tn) return tn;
      cur = next;
    }
    return undefined;
  }

  private convert(named: number, r: number, k: number): Type {
    switch (k) {
      case K.UNKN: return { kind: 'none' };
      case K.INT: return this.intType(r);
      case K.ENUM: case K.ENUM64: {
        const size = this.sizeOrType(r);
        const type = this.str(this.u32(this.offsets[r]!));
        const t = intOfSize(size, this.kindFlag(r));
        // A named enum's enumerators go with the type: printf's %s prints the value by name (as
        // bpftrace, not an anonymous enum's).
        return t.kind === 'int' && type ? { ...t, enumerators: enumNames(`enum ${type}`, this.enumeratorsOf(r)) } : t;
      }
      case K.FLOAT: return intOfSize(this.sizeOrType(r), false);
      case K.PTR: {
        const target = this.sizeOrType(r);
        const tr = this.resolve(target);
        const tk = this.kindOf(tr);
        if (tk === K.FUNC_PROTO || tk === K.UNKN) return { kind: 'pointer', target: { kind: 'none' } };
        const pointer: Type = { kind: 'pointer', target: this.typeOf(target, false) };
        // A kernel built with type tags marks `char __user *` with btf_type_tag("user").
        return this.hasTypeTag(target, 'user') ? { ...pointer, userSpace: true } : pointer;
      }
      case K.ARRAY: {
        const p = this.offsets[r]! + 12;
        const elemId = this.u32(p);
        const length = this.u32(p + 8);
        const er = this.resolve(elemId);
        if (this.kindOf(er) === K.INT && this.nameOf(er) === 'char') return { kind: 'string', size: length };
        return { kind: 'array', element: this.typeOf(elemId, true), length };
      }
      case K.STRUCT: case K.UNION: {
        const fields: RecordField[] = [];
        this.collectFields(r, 0, fields);
        return { kind: 'record', name: this.recordName(named, r) ?? (k === K.UNION ? 'union' : 'struct'), size: this.sizeOrType(r), fields };
      }
      case K.FWD: return { kind: 'record', name: this.recordName(named, r) ?? 'struct', size: 0, fields: [] };
      case K.FUNC_PROTO: case K.FUNC: return { kind: 'none' };
      default: return { kind: 'none' };
    }
  }

  private intType(r: number): Type {
    const size = this.sizeOrType(r);
    const enc = this.u32(this.offsets[r]! + 12);
    const encoding = (enc >>> 24) & 0x0f;
    if (encoding & BTF_INT_BOOL) return intOfSize(size, false);
    return intOfSize(size, (encoding & BTF_INT_SIGNED) !== 0);
  }

  /**
   * Members of a struct/union. Members of anonymous struct/union members are flattened into the
   * parent with their offsets adjusted (the way C and bpftrace let you name them directly).
   * Bitfields: `offset` is the byte holding the first bit, `bitOffset` (0–7) the bit within it.
   */
  private collectFields(r: number, baseBits: number, out: RecordField[]): void {
    const vlen = this.vlen(r);
    const bitfieldFlag = this.kindFlag(r);
    let p = this.offsets[r]! + 12;
    for (let i = 0; i < vlen; i++, p += 12) {
      const name = this.str(this.u32(p));
      const typeId = this.u32(p + 4);
      const raw = this.u32(p + 8);
      let bitPos = bitfieldFlag ? raw & 0xffffff : raw;
      let bitWidth = bitfieldFlag ? raw >>> 24 : 0;
      bitPos += baseBits;
      const mr = this.resolve(typeId);
      const mk = this.kindOf(mr);
      if (!name && (mk === K.STRUCT || mk === K.UNION)) {
        this.collectFields(mr, bitPos, out);
        continue;
      }
      if (!bitfieldFlag && mk === K.INT) {
        // Old-style bitfields: the int itself carries bit offset/size.
        const enc = this.u32(this.offsets[mr]! + 12);
        const nrBits = enc & 0xff;
        const extra = (enc >>> 16) & 0xff;
        if (nrBits !== this.sizeOrType(mr) * 8 || extra !== 0) {
          bitWidth = nrBits;
          bitPos += extra;
        }
      }
      const type = this.typeOf(typeId, true);
      if (bitWidth > 0) {
        out.push({ name, type, offset: Math.floor(bitPos / 8), bitOffset: bitPos % 8, bitWidth });
      } else {
        out.push({ name, type, offset: Math.floor(bitPos / 8) });
      }
    }
  }

  // ---- enums ----

  /** Enumerators of `enum name` (name with or without the `enum ` prefix). */
  enumValues(name: string): ReadonlyMap<string, bigint> | undefined {
    const id = this.lookup(name.startsWith('enum ') ? name : `enum ${name}`);
    if (id === undefined) return undefined;
    return this.enumeratorsOf(id);
  }

  private enumeratorsOf(id: number): Map<string, bigint> {
    const m = new Map<string, bigint>();
    const k = this.kindOf(id);
    const vlen = this.vlen(id);
    const signed = this.kindFlag(id);
    let p = this.offsets[id]! + 12;
    if (k === K.ENUM) {
      for (let i = 0; i < vlen; i++, p += 8) {
        const v = signed ? this.dv.getInt32(p + 4, true) : this.u32(p + 4);
        m.set(this.str(this.u32(p)), BigInt(v));
      }
    } else if (k === K.ENUM64) {
      for (let i = 0; i < vlen; i++, p += 12) {
        let v = (BigInt(this.u32(p + 8)) << 32n) | BigInt(this.u32(p + 4));
        if (signed) v = BigInt.asIntN(64, v);
        m.set(this.str(this.u32(p)), v);
      }
    }
    return m;
  }

  /** The value of an enumerator by name (e.g. `TASK_COMM_LEN`), from any kernel enum. */
  enumeratorValue(name: string): bigint | undefined {
    if (!this.enumeratorIndex) {
      const idx = new Map<string, bigint>();
      for (let id = 1; id < this.count; id++) {
        const k = this.kindOf(id);
        if (k !== K.ENUM && k !== K.ENUM64) continue;
        for (const [n, v] of this.enumeratorsOf(id)) if (!idx.has(n)) idx.set(n, v);
      }
      this.enumeratorIndex = idx;
    }
    return this.enumeratorIndex.get(name);
  }

  // ---- functions and raw tracepoints ----

  private protoParams(protoId: number): { name: string; typeId: number }[] {
    const vlen = this.vlen(protoId);
    const out: { name: string; typeId: number }[] = [];
    let p = this.offsets[protoId]! + 12;
    for (let i = 0; i < vlen; i++, p += 8) out.push({ name: this.str(this.u32(p)), typeId: this.u32(p + 4) });
    return out;
  }

  private param(name: string, typeId: number, i: number): BtfParam {
    return { name: name || `arg${i}`, type: this.typeOf(typeId, false), typeName: this.cName(typeId) };
  }

  /** A kernel function's prototype (BTF FUNC → FUNC_PROTO), for kfunc/kretfunc. */
  kernelFunction(name: string): BtfFunction | undefined {
    const id = this.lookup(`func ${name}`);
    if (id === undefined) return undefined;
    const proto = this.sizeOrType(id);
    if (this.kindOf(proto) !== K.FUNC_PROTO) return undefined;
    const params = this.protoParams(proto)
      .filter((p) => !(p.typeId === 0 && p.name === '')) // a trailing `...`
      .map((p, i) => this.param(p.name, p.typeId, i));
    const ret = this.sizeOrType(proto);
    return { name, params, returnType: ret === 0 ? { kind: 'none' } : this.typeOf(ret, false), returnTypeName: this.cName(ret) };
  }

  /** Names of all kernel functions in BTF (FUNC entries), sorted. */
  listFunctions(): string[] {
    return [...new Set(this.namesWithPrefix(K.FUNC, ''))].sort();
  }

  /** Raw tracepoint names: typedefs `btf_trace_<name>`, sorted. */
  listRawTracepoints(): string[] {
    return [...new Set(this.namesWithPrefix(K.TYPEDEF, 'btf_trace_').map((n) => n.slice(10)))].sort();
  }

  /**
   * Arguments of a raw tracepoint: the function prototype behind `btf_trace_<name>` without its
   * first `void *` (the tracepoint's private data). The typedef's prototype has no parameter
   * names; they are taken from the kernel's `__bpf_trace_<name>` function when BTF has it.
   */
  rawTracepointArgs(name: string): BtfParam[] | undefined {
    const id = this.lookup(`btf_trace_${name}`);
    if (id === undefined || this.kindOf(id) !== K.TYPEDEF) return undefined;
    const ptr = this.resolve(id);
    if (this.kindOf(ptr) !== K.PTR) return undefined;
    const proto = this.resolve(this.sizeOrType(ptr));
    if (this.kindOf(proto) !== K.FUNC_PROTO) return undefined;
    const params = this.protoParams(proto).slice(1);
    let names: string[] | undefined;
    const fn = this.lookup(`func __bpf_trace_${name}`);
    if (fn !== undefined && this.kindOf(this.sizeOrType(fn)) === K.FUNC_PROTO) {
      const fp = this.protoParams(this.sizeOrType(fn)).slice(1);
      if (fp.length === params.length) names = fp.map((p) => p.name);
    }
    return params.map((p, i) => this.param(names?.[i] || p.name, p.typeId, i));
  }
}

function intOfSize(size: number, signed: boolean): Type {
  if (size === 1 || size === 2 || size === 4 || size === 8) return { kind: 'int', bits: (size * 8) as IntBits, signed };
  if (size === 16) return { kind: 'array', element: { kind: 'int', bits: 64, signed: false }, length: 2 };
  return { kind: 'array', element: { kind: 'int', bits: 8, signed: false }, length: size };
}

/** Bytes after a type's 12-byte header, by kind (vlen: the info's low 16 bits). */
function typeDataBytes(kind: number, vlen: number): number {
  switch (kind) {
    case K.INT: case K.VAR: case K.DECL_TAG: return 4;
    case K.ARRAY: return 12;
    case K.STRUCT: case K.UNION: case K.DATASEC: case K.ENUM64: return 12 * vlen;
    case K.ENUM: case K.FUNC_PROTO: return 8 * vlen;
    default: return 0;
  }
}

/**
 * The byte offset of a direct member of a struct (`task_struct`, `self_exec_id`), read from a BTF
 * file a piece at a time: a pass over the strings for the two names, one over the types for the
 * struct. For one fact, without the whole file in memory (5 MiB, ~7 MiB resident with the index
 * of a Btf) as the Btf class keeps it. undefined if either is not there.
 */
export function btfMemberOffset(path: string, struct: string, member: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(24);
    if (readSync(fd, header, 0, 24, 0) !== 24 || header.readUInt16LE(0) !== 0xeb9f) return undefined;
    const hdrLen = header.readUInt32LE(4);
    const typeStart = hdrLen + header.readUInt32LE(8);
    const typeEnd = typeStart + header.readUInt32LE(12);
    const strStart = hdrLen + header.readUInt32LE(16);
    const strEnd = strStart + header.readUInt32LE(20);
    const piece = Buffer.alloc(1 << 16);
    // The offsets of the two names in the string section (BTF keeps each string once, each after
    // a NUL: the section starts with the empty string), found by a search of each piece.
    const stringOffset = (name: string): number => {
      const pattern = Buffer.from(`\0${name}\0`, 'latin1');
      const overlap = pattern.length - 1;
      // sysfs gives a page a read: each read's end overlaps the next one's start.
      for (let at = strStart; at < strEnd;) {
        const n = readSync(fd, piece, 0, Math.min(piece.length, strEnd - at), at);
        if (n <= 0) break;
        const hit = piece.subarray(0, n).indexOf(pattern);
        if (hit >= 0) return at - strStart + hit + 1;
        if (at + n >= strEnd) break;
        at += Math.max(1, n - overlap);
      }
      return -1;
    };
    const structName = stringOffset(struct);
    const memberName = stringOffset(member);
    if (structName < 0 || memberName < 0) return undefined;
    // The types, in order: each a 12-byte header and its kind's data.
    let buf = Buffer.alloc(0);
    let bufAt = typeStart;
    const ensure = (at: number, bytes: number): boolean => {
      if (at >= bufAt && at + bytes <= bufAt + buf.length) return true;
      const n = readSync(fd, piece, 0, Math.min(piece.length, typeEnd - at), at);
      if (n < bytes) return false;
      buf = piece.subarray(0, n);
      bufAt = at;
      return true;
    };
    for (let at = typeStart; at + 12 <= typeEnd;) {
      if (!ensure(at, 12)) return undefined;
      const name = buf.readUInt32LE(at - bufAt);
      const info = buf.readUInt32LE(at - bufAt + 4);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const data = typeDataBytes(kind, vlen);
      if (kind === K.STRUCT && name === structName && vlen > 0) {
        for (let m = 0; m < vlen; m++) {
          const p = at + 12 + 12 * m;
          if (!ensure(p, 12)) return undefined;
          if (buf.readUInt32LE(p - bufAt) !== memberName) continue;
          const offset = buf.readUInt32LE(p - bufAt + 8);
          // kind_flag: bitfield size in the top 8 bits, the bit offset below.
          const bits = info >>> 31 ? offset & 0xffffff : offset;
          return bits % 8 === 0 ? bits / 8 : undefined;
        }
      }
      at += 12 + data;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The Btf constructor's scan in JavaScript (the addon's btfTypeOffsets does the same). */
export function scanTypes(w: Uint32Array, typeStart: number, typeEnd: number): NativeBtfOffsets {
  let offsets = new Uint32Array(1 << 17);
  let nameOffs = new Uint32Array(1 << 17);
  let id = 1;
  let p = typeStart;
  while (p < typeEnd) {
    if (id >= offsets.length) {
      const bigger = new Uint32Array(offsets.length * 2);
      bigger.set(offsets);
      offsets = bigger;
      const biggerNames = new Uint32Array(nameOffs.length * 2);
      biggerNames.set(nameOffs);
      nameOffs = biggerNames;
    }
    offsets[id] = p;
    nameOffs[id++] = w[p >>> 2]!;
    const info = w[(p >>> 2) + 1]!;
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    p += 12;
    switch (kind) {
      case K.INT: p += 4; break;
      case K.ARRAY: p += 12; break;
      case K.STRUCT: case K.UNION: p += 12 * vlen; break;
      case K.ENUM: p += 8 * vlen; break;
      case K.FUNC_PROTO: p += 8 * vlen; break;
      case K.VAR: p += 4; break;
      case K.DATASEC: p += 12 * vlen; break;
      case K.DECL_TAG: p += 4; break;
      case K.ENUM64: p += 12 * vlen; break;
      default: break; // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
    }
  }
  return { offsets: offsets.subarray(0, id), nameOffs: nameOffs.subarray(0, id) };
}

/**
 * The file mapped read-only, when the runtime has provided mapFile and the file allows it (the
 * kernel's BTF does since Linux 6.16): no 5 MB copy on the heap, ~5 ms less than reading it.
 */
function mappedReadOnly(path: string): Buffer | undefined {
  const native = symbolNatives();
  if (!native) return undefined;
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    return size > 0 ? Buffer.from(native.mapFile(fd, size, true)) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
