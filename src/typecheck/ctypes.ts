// C types as written in scripts (casts, sizeof, offsetof, struct/union/enum definitions, typedefs)
// and the BTF-typed arguments of rawtracepoint and kfunc probes.
import type { CDefinition, CField, CLayoutAttributes, CType, TypeName } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/render.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { alignOf, alignUp, enumNames, int, sizeOf, str, type RecordField, type Type } from '../model/types.js';
import type { ProbeTarget } from '../model/program.js';

/** C and bpftrace integer spellings. */
const INTEGER_NAMES: Record<string, Type> = {
  int8: int(8, true), int16: int(16, true), int32: int(32, true), int64: int(64, true),
  uint8: int(8, false), uint16: int(16, false), uint32: int(32, false), uint64: int(64, false),
  s8: int(8, true), s16: int(16, true), s32: int(32, true), s64: int(64, true),
  u8: int(8, false), u16: int(16, false), u32: int(32, false), u64: int(64, false),
  char: int(8, true), 'signed char': int(8, true), 'unsigned char': int(8, false),
  short: int(16, true), 'short int': int(16, true), 'unsigned short': int(16, false), 'unsigned short int': int(16, false),
  int: int(32, true), signed: int(32, true), 'signed int': int(32, true), unsigned: int(32, false), 'unsigned int': int(32, false),
  long: int(64, true), 'long int': int(64, true), 'unsigned long': int(64, false), 'unsigned long int': int(64, false),
  'long long': int(64, true), 'long long int': int(64, true), 'unsigned long long': int(64, false),
  'unsigned long long int': int(64, false), bool: int(8, false), _Bool: int(8, false),
  size_t: int(64, false), ssize_t: int(64, true), uintptr_t: int(64, false),
};

/** The base type of a name: the script's types first, then integer names, then the kernel's BTF. */
function baseType(name: string, kernel: KernelInfo, structs: ReadonlyMap<string, Type>): Type | undefined {
  const n = name.trim().replace(/\s+/g, ' ').replace(/^const /, '');
  if (n === 'void') return { kind: 'none' };
  const s = structs.get(n);
  if (s) return s;
  const i = INTEGER_NAMES[n];
  if (i) return i;
  return kernel.kernelType(n);
}

export function resolveTypeName(tn: TypeName, kernel: KernelInfo, structs: ReadonlyMap<string, Type>): Type | undefined {
  let t = baseType(tn.name, kernel, structs);
  if (!t) return undefined;
  if (tn.arrayLength !== undefined) t = arrayOf(t, tn.arrayLength);
  for (let i = 0; i < tn.pointerDepth; i++) t = { kind: 'pointer', target: t };
  return t;
}

/** `unknown type 'x'`, with the closest script or integer type name (of the same tag) as a hint. */
export function unknownType(name: string, span: Span, scriptTypes: ReadonlyMap<string, Type>): Diagnostic {
  const tag = /^(?:struct|union|enum) /.exec(name)?.[0] ?? '';
  const code = tag === 'struct ' || tag === 'union ' ? 'E_UNKNOWN_STRUCT' : 'E_UNKNOWN_TYPE';
  const candidates = [...scriptTypes.keys(), ...(tag ? [] : Object.keys(INTEGER_NAMES))]
    .filter((n) => (tag ? n.startsWith(tag) : !/^(?:struct|union|enum) /.test(n)))
    .map((n) => n.slice(tag.length));
  const near = closest(name.slice(tag.length), candidates);
  return error(code, span, `unknown type '${name}'`, near ? `did you mean ${tag}${near}?` : undefined);
}

function arrayOf(t: Type, length: number): Type {
  return t.kind === 'int' && t.bits === 8 ? str(length) : { kind: 'array', element: t, length };
}

/** What the script's C definitions define. */
export interface ScriptTypes {
  /** `struct s`, `union u`, `enum e` and typedef names → their types. */
  readonly types: ReadonlyMap<string, Type>;
  /** Enumerators of the script's enums (nested ones too) → their values. */
  readonly enumerators: ReadonlyMap<string, bigint>;
}

/**
 * Resolves the script's C definitions in order, as a C compiler would: struct/union bodies laid
 * out like the x86-64 System V ABI (natural alignment, bit-fields packed into units of their
 * type), members of anonymous struct/union members flattened into the parent (so `s.x` reaches
 * them), nested tags defined at file scope, typedef names usable wherever a type is.
 */
export function scriptTypes(defs: readonly CDefinition[], kernel: KernelInfo, diagnostics: Diagnostic[]): ScriptTypes {
  const resolver = new CTypeResolver(kernel, diagnostics);
  for (const def of defs) {
    resolver.resolve(def.specifier, false);
    for (const t of def.typedefs) {
      const type = resolver.resolve(t.type, false);
      // An anonymous struct is known by its typedef name (in messages, and to find it again).
      const anonymous = type.kind === 'record' && (type.name === 'struct' || type.name === 'union');
      resolver.types.set(t.name, anonymous ? { ...type, name: t.name } : type);
    }
  }
  return resolver;
}

class CTypeResolver implements ScriptTypes {
  readonly types = new Map<string, Type>();
  readonly enumerators = new Map<string, bigint>();

  constructor(private readonly kernel: KernelInfo, private readonly diagnostics: Diagnostic[]) {}

  /** `incompleteOk`: behind a pointer, where C allows a struct that is declared but not defined. */
  resolve(ct: CType, incompleteOk: boolean): Type {
    switch (ct.kind) {
      case 'CNamedType': {
        const t = baseType(ct.name, this.kernel, this.types);
        if (t) return t;
        this.diagnostics.push(unknownType(ct.name, ct.span, this.types));
        return int(64, true);
      }
      case 'CRecordType': {
        const key = ct.name !== undefined ? `${ct.tag} ${ct.name}` : ct.tag;
        if (ct.fields) {
          // Declared before its body is read, so members may point at it (`struct node *next`).
          if (ct.name !== undefined) this.types.set(key, { kind: 'record', name: key, size: 0, fields: [] });
          const record = this.layout(key, ct.tag, ct.fields, ct.layout ?? {});
          if (ct.name !== undefined) this.types.set(key, record);
          return record;
        }
        const known = this.types.get(key) ?? this.kernel.kernelType(key);
        if (known && (incompleteOk || known.kind !== 'record' || known.size > 0)) return known;
        if (incompleteOk) return { kind: 'record', name: key, size: 0, fields: [] };
        this.diagnostics.push(known ? error('E_INCOMPLETE_TYPE', ct.span, `'${key}' is declared but not defined`, 'use a pointer to it, or define it before this use')
          : unknownType(key, ct.span, this.types));
        return int(64, true);
      }
      case 'CEnumType': {
        const key = `enum ${ct.name ?? ''}`;
        if (!ct.enumerators) {
          const known = this.types.get(key) ?? this.kernel.kernelType(key);
          if (known) return known;
          this.diagnostics.push(unknownType(key, ct.span, this.types));
          return int(32, false);
        }
        let next = 0n;
        let negative = false;
        const values = new Map<string, bigint>();
        for (const e of ct.enumerators) {
          const v = e.value ?? next;
          this.enumerators.set(e.name, v);
          values.set(e.name, v);
          negative ||= v < 0n;
          next = v + 1n;
        }
        // As gcc: unsigned int unless a value is negative. Its enumerators go with it (printf's %s).
        const t: Type = ct.name === undefined ? int(32, negative) : { kind: 'int', bits: 32, signed: negative, enumerators: enumNames(key, values) };
        if (ct.name !== undefined) this.types.set(key, t);
        return t;
      }
      case 'CPointerType':
        return { kind: 'pointer', target: this.resolve(ct.target, true) };
      case 'CArrayType':
        return arrayOf(this.resolve(ct.element, false), ct.length);
      case 'CFunctionType':
        // Code, not data: what a function pointer points at is opaque (as BTF's FUNC_PROTO).
        if (incompleteOk) return { kind: 'none' };
        this.diagnostics.push(error('E_FUNCTION_FIELD', ct.span, 'a function cannot be stored in a struct', 'declare a pointer to it: `void (*name)(int)`'));
        return int(64, false);
    }
  }

  private layout(name: string, tag: 'struct' | 'union', defs: readonly CField[], attributes: CLayoutAttributes): Type {
    const fields: RecordField[] = [];
    const union = tag === 'union';
    let nextBit = 0; // struct: the first bit not yet used
    let size = 0;
    let maxAlign = 1;
    const add = (field: RecordField, def: CField): void => {
      if (fields.some((f) => f.name === field.name)) {
        this.diagnostics.push(error('E_DUPLICATE_FIELD', def.span, `duplicate member '${field.name}' in ${name}`));
      }
      fields.push(field);
    };
    for (const f of defs) {
      const t = this.resolve(f.type, false);
      const bytes = sizeOf(t);
      // `packed` (on the record or the member) drops the member's alignment; `aligned(N)` raises it.
      const packed = attributes.packed || f.layout?.packed;
      const align = Math.max(packed ? 1 : alignOf(t), f.layout?.aligned ?? 1);
      const start = union ? 0 : nextBit;
      if (f.bitWidth !== undefined) {
        const width = f.bitWidth;
        if (t.kind !== 'int' || width > t.bits || (width === 0 && f.name !== undefined)) {
          const why = t.kind !== 'int' ? 'a bit-field must have an integer type' : width === 0 ? 'a named bit-field cannot have width 0' : `'${f.name ?? ''}' is wider than its type (${bytes * 8} bits)`;
          this.diagnostics.push(error('E_BAD_BITFIELD', f.span, why));
          continue;
        }
        const unit = Math.max(1, alignOf(t)) * 8;
        // Width 0 closes the current unit; otherwise a bit-field that would straddle a unit of
        // its type starts the next one (packed: it does not).
        let pos = start;
        if (width === 0 || (!packed && Math.floor(pos / unit) !== Math.floor((pos + width - 1) / unit))) pos = alignUp(pos, unit);
        if (pos % 8 + width > t.bits) {
          // Read as one load of its type from the byte it starts in: it must fit there.
          this.diagnostics.push(error('E_BAD_BITFIELD', f.span, `'${f.name ?? ''}' spans more bytes than its type in this packed layout`));
          continue;
        }
        if (f.name !== undefined) {
          add({ name: f.name, type: t, offset: Math.floor(pos / 8), bitOffset: pos % 8, bitWidth: width }, f);
          maxAlign = Math.max(maxAlign, align); // unnamed bit-fields do not align the struct (SysV)
        }
        if (!union) nextBit = pos + width;
        size = Math.max(size, Math.ceil((pos + width) / 8));
        continue;
      }
      const offset = alignUp(Math.ceil(start / 8), align);
      if (f.name === undefined && t.kind === 'record') {
        for (const inner of t.fields) add({ ...inner, offset: inner.offset + offset }, f);
      } else {
        add({ name: f.name ?? '', type: t, offset }, f);
      }
      maxAlign = Math.max(maxAlign, align);
      if (!union) nextBit = (offset + bytes) * 8;
      size = Math.max(size, offset + bytes);
    }
    maxAlign = Math.max(maxAlign, attributes.aligned ?? 1);
    const natural = Math.max(1, ...fields.map((f) => alignOf(f.type)));
    return { kind: 'record', name, size: alignUp(size, maxAlign), fields, ...(maxAlign !== natural ? { align: maxAlign } : {}) };
  }
}

/** BTF arguments of a rawtracepoint (without its leading `void *`) or a kfunc/kretfunc target. */
export function kernelArgs(t: ProbeTarget, kernel: KernelInfo): readonly { name: string; type: Type }[] | undefined {
  if (t.provider === 'rawtracepoint') return kernel.rawTracepointArgs?.(t.parts.at(-1)!);
  if (t.provider === 'kfunc' || t.provider === 'kretfunc') return kernel.kernelFunction?.(t.func ?? t.parts.at(-1)!)?.params;
  return undefined;
}
