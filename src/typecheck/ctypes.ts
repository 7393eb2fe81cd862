// C types as written in scripts (casts, sizeof, offsetof, `struct X { ... }` definitions) and the
// BTF-typed arguments of rawtracepoint and kfunc probes.
import type { CTypeDef, TypeName } from '../parser/ast.js';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { alignOf, alignUp, int, sizeOf, str, type ProbeTarget, type RecordField, type Type } from './types.js';

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

/** The base type of a name: script structs first, then integer names, then the kernel's BTF. */
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

function arrayOf(t: Type, length: number): Type {
  return t.kind === 'int' && t.bits === 8 ? str(length) : { kind: 'array', element: t, length };
}

/** Lays out the structs defined in the script, in C's way (natural alignment, padded size). */
export function scriptStructs(defs: readonly CTypeDef[], kernel: KernelInfo, diagnostics: Diagnostic[]): Map<string, Type> {
  const structs = new Map<string, Type>();
  for (const def of defs) {
    if (def.tag === 'enum') continue;
    const name = `${def.tag} ${def.name}`;
    const fields: RecordField[] = [];
    let offset = 0;
    let size = 0;
    let maxAlign = 1;
    for (const f of def.fields) {
      let t = resolveTypeName(f.type, kernel, structs);
      if (!t) {
        diagnostics.push(error('E_UNKNOWN_TYPE', f.type.span, `unknown type '${f.type.name}' in ${name}`));
        t = int(64, true);
      }
      if (f.arrayLength !== undefined) t = arrayOf(t, f.arrayLength);
      const a = Math.max(1, t.kind === 'pointer' ? 8 : alignOf(t));
      const bytes = t.kind === 'pointer' ? 8 : sizeOf(t);
      maxAlign = Math.max(maxAlign, a);
      if (def.tag === 'union') {
        fields.push({ name: f.name, type: t, offset: 0 });
        size = Math.max(size, bytes);
      } else {
        offset = alignUp(offset, a);
        fields.push({ name: f.name, type: t, offset });
        offset += bytes;
        size = offset;
      }
    }
    structs.set(name, { kind: 'record', name, size: alignUp(size, maxAlign), fields });
  }
  return structs;
}

/** BTF arguments of a rawtracepoint (without its leading `void *`) or a kfunc/kretfunc target. */
export function kernelArgs(t: ProbeTarget, kernel: KernelInfo): readonly { name: string; type: Type }[] | undefined {
  if (t.provider === 'rawtracepoint') return kernel.rawTracepointArgs?.(t.parts.at(-1)!);
  if (t.provider === 'kfunc' || t.provider === 'kretfunc') return kernel.kernelFunction?.(t.func ?? t.parts.at(-1)!)?.params;
  return undefined;
}
