// A function's parameters from an ELF file's DWARF debug info (.debug_info and .debug_abbrev, the
// string sections), for `args` of uprobes as bpftrace built with libdw gives them: each parameter
// by name with its C type. DWARF 2 to 5, 32- and 64-bit, sections compressed with zlib too.
// Types become tracelet's: integers, pointers (user-space), arrays, and structs/unions as records
// (behind a pointer a record is opaque, its fields in `records` by name, so that a struct that
// points to itself is no cycle); floating point and other types a register cannot hold are left out.
import { inflateSync } from 'node:zlib';
import type { RecordField, Type } from '../model/types.js';
import type { ElfFile } from './elf.js';
import type { DwarfFunction, DwarfParam, DwarfType } from './kernel-info.js';

type RecordType = Extract<Type, { kind: 'record' }>;

const SHF_COMPRESSED = 0x800;

// Tags, attributes and forms (DWARF 5, section 7).
const TAG = {
  array: 0x01, class: 0x02, enumeration: 0x04, formalParameter: 0x05, member: 0x0d, pointer: 0x0f, reference: 0x10,
  compileUnit: 0x11, structure: 0x13, typedef: 0x16, union: 0x17, subrange: 0x21, baseType: 0x24, const: 0x26,
  subprogram: 0x2e, volatile: 0x35, restrict: 0x37, partialUnit: 0x3c, rvalueReference: 0x42, atomic: 0x47,
} as const;
const AT = {
  name: 0x03, byteSize: 0x0b, lowPc: 0x11, bitSize: 0x0d, upperBound: 0x2f, abstractOrigin: 0x31, count: 0x37,
  dataMemberLocation: 0x38, declaration: 0x3c, encoding: 0x3e, specification: 0x47, type: 0x49,
  dataBitOffset: 0x6b, linkageName: 0x6e, strOffsetsBase: 0x72, mipsLinkageName: 0x2007,
} as const;
/** Tags that name another type under a new name or with a qualifier. */
const QUALIFIER_TAGS: ReadonlySet<number> = new Set([TAG.typedef, TAG.const, TAG.volatile, TAG.restrict, TAG.atomic]);
const RECORD_TAGS: ReadonlySet<number> = new Set([TAG.structure, TAG.class, TAG.union]);
const ATE = { boolean: 0x02, signed: 0x05, signedChar: 0x06, unsigned: 0x07, unsignedChar: 0x08, utf: 0x10 } as const;

interface AbbrevAttr {
  readonly at: number;
  readonly form: number;
  readonly implicit?: number;
}

interface Abbrev {
  readonly tag: number;
  readonly children: boolean;
  readonly attrs: readonly AbbrevAttr[];
}

/** A reference to another DIE, as an offset in .debug_info. */
interface Ref {
  readonly ref: number;
}

type AttrValue = number | string | Ref | Buffer;

interface Die {
  readonly offset: number;
  readonly tag: number;
  readonly attrs: ReadonlyMap<number, AttrValue>;
  readonly children: number[];
}

/** Reads the file's DWARF once and finds functions' parameters in it. */
export class DwarfInfo {
  private readonly info: Buffer;
  private readonly abbrev: Buffer;
  private readonly str?: Buffer;
  private readonly lineStr?: Buffer;
  private readonly strOffsets?: Buffer;
  private readonly aranges?: Buffer;
  private readonly dies = new Map<number, Die>();
  /** The units read so far (by offset), and whether all are. */
  private readonly unitsRead = new Set<number>();
  private readonly full = new Map<number, RecordType>();
  private readonly types = new Map<number, Type | undefined>();
  private parsed = false;

  private constructor(info: Buffer, abbrev: Buffer, elf: ElfFile) {
    this.info = info;
    this.abbrev = abbrev;
    this.str = sectionBytes(elf, '.debug_str');
    this.lineStr = sectionBytes(elf, '.debug_line_str');
    this.strOffsets = sectionBytes(elf, '.debug_str_offsets');
    this.aranges = sectionBytes(elf, '.debug_aranges');
  }

  /** The file's DWARF, or undefined when it has none (stripped, or compressed other than by zlib). */
  static of(elf: ElfFile): DwarfInfo | undefined {
    const info = sectionBytes(elf, '.debug_info');
    const abbrev = sectionBytes(elf, '.debug_abbrev');
    return info && abbrev ? new DwarfInfo(info, abbrev, elf) : undefined;
  }

  /**
   * The parameters of the function at `address` (a virtual address, as DW_AT_low_pc holds it), or
   * named `name` (its DW_AT_name, or its linkage name), from its definition rather than a
   * declaration (whose parameters have no names), and from one with parameters rather than one
   * without. Undefined when the DWARF has no such function.
   */
  functionNamed(name: string, address?: number): DwarfFunction | undefined {
    // Only the unit that holds the address, when .debug_aranges says which (libc's debug file
    // has ~2,000 units: reading them all takes seconds and hundreds of MiB).
    const unit = address === undefined ? undefined : this.unitAt(address);
    if (unit === undefined) this.parse();
    else this.parseUnit(unit);
    let found: Die | undefined;
    let best = -1;
    for (const die of this.dies.values()) {
      if (die.tag !== TAG.subprogram) continue;
      // The definition at the probe's address (a C++ function's DW_AT_name is unqualified).
      const here = address !== undefined && die.attrs.get(AT.lowPc) === address;
      if (!here && this.nameOf(die, true) !== name && this.linkageNameOf(die) !== name) continue;
      const params = die.children.some((c) => this.dies.get(c)?.tag === TAG.formalParameter);
      const rank = (here ? 4 : 0) + (die.attrs.get(AT.declaration) === undefined ? 2 : 0) + (params ? 1 : 0);
      if (rank > best) {
        found = die;
        best = rank;
      }
    }
    if (!found) return undefined;
    const records = new Map<string, RecordType>();
    const params: DwarfParam[] = [];
    for (const c of found.children) {
      const p = this.dies.get(c);
      if (p?.tag !== TAG.formalParameter) continue;
      const typeDie = this.follow(p, AT.type);
      params.push({
        name: this.nameOf(p, true) ?? `arg${params.length}`, type: this.typeOfDie(typeDie) ?? { kind: 'none' }, typeName: this.cTypeName(typeDie),
      });
    }
    for (const r of this.full.values()) records.set(r.name, r);
    return { params, records };
  }

  /**
   * The type defined by `name` (`struct point`, `union u`, `enum e` or a typedef's name), from a
   * definition rather than a declaration, with the records it reaches; undefined when none.
   */
  typeNamed(name: string): DwarfType | undefined {
    this.parse();
    const tag = /^(struct|union|enum) /.exec(name)?.[1];
    const bare = tag ? name.slice(tag.length + 1) : name;
    const tags: readonly number[] = tag === 'struct' ? [TAG.structure, TAG.class] : tag === 'union' ? [TAG.union]
      : tag === 'enum' ? [TAG.enumeration] : [TAG.typedef];
    for (const die of this.dies.values()) {
      if (!tags.includes(die.tag) || die.attrs.get(AT.declaration) !== undefined || this.nameOf(die, false) !== bare) continue;
      const type = this.typeOfDie(die);
      if (!type || type.kind === 'none') return undefined;
      return { type, records: new Map([...this.full.values()].map((r) => [r.name, r])) };
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // types

  /** The DIE an attribute refers to, here or through the DIE's abstract origin / specification. */
  private follow(die: Die, at: number): Die | undefined {
    const own = die.attrs.get(at);
    if (own !== undefined) return isRef(own) ? this.dies.get(own.ref) : undefined;
    const origin = this.originOf(die);
    return origin && this.follow(origin, at);
  }

  /** The DIE this one completes (DW_AT_abstract_origin, else DW_AT_specification), if any. */
  private originOf(die: Die): Die | undefined {
    for (const via of [AT.abstractOrigin, AT.specification]) {
      const v = die.attrs.get(via);
      const origin = v !== undefined && isRef(v) ? this.dies.get(v.ref) : undefined;
      if (origin && origin !== die) return origin;
    }
    return undefined;
  }

  private nameOf(die: Die, throughOrigin: boolean): string | undefined {
    const n = die.attrs.get(AT.name);
    if (typeof n === 'string') return n;
    const origin = throughOrigin ? this.originOf(die) : undefined;
    return origin && this.nameOf(origin, true);
  }

  private linkageNameOf(die: Die): string | undefined {
    const n = die.attrs.get(AT.linkageName) ?? die.attrs.get(AT.mipsLinkageName);
    if (typeof n === 'string') return n;
    const origin = this.originOf(die);
    return origin && this.linkageNameOf(origin);
  }

  private num(die: Die, at: number): number | undefined {
    const v = die.attrs.get(at);
    return typeof v === 'number' ? v : undefined;
  }

  /** A type's name as bpftrace 0.17 writes it in -lv (`long int`, `struct pt*`, `char const*`). */
  private cTypeName(die: Die | undefined): string {
    if (!die) return 'void';
    const name = this.nameOf(die, false);
    switch (die.tag) {
      case TAG.baseType:
      case TAG.typedef:
        return name ?? '<unknown type>';
      case TAG.pointer: {
        const target = this.follow(die, AT.type);
        return target ? `${this.cTypeName(target)}*` : 'void*';
      }
      case TAG.structure:
      case TAG.union:
      case TAG.enumeration: {
        const prefix = die.tag === TAG.structure ? 'struct' : die.tag === TAG.union ? 'union' : 'enum';
        return `${prefix} ${name ?? '<anonymous>'}`;
      }
      case TAG.const: {
        const target = this.follow(die, AT.type);
        return target?.tag === TAG.pointer ? `${this.cTypeName(target)} const` : `const ${this.cTypeName(target)}`;
      }
      default:
        return '<unknown type>';
    }
  }

  /** A type DIE as tracelet's type (records opaque: see recordOf); undefined for void. */
  private typeOfDie(die: Die | undefined): Type | undefined {
    if (!die) return undefined;
    if (this.types.has(die.offset)) return this.types.get(die.offset);
    const t = this.convert(die);
    this.types.set(die.offset, t);
    return t;
  }

  private convert(die: Die): Type | undefined {
    const none: Type = { kind: 'none' };
    switch (die.tag) {
      case TAG.baseType: {
        const size = this.num(die, AT.byteSize) ?? 0;
        const enc = this.num(die, AT.encoding);
        const bits = size * 8;
        if (enc === ATE.boolean) return { kind: 'int', bits: 8, signed: false };
        if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) return none;
        if (enc === ATE.signed || enc === ATE.signedChar) return { kind: 'int', bits, signed: true };
        if (enc === ATE.unsigned || enc === ATE.unsignedChar || enc === ATE.utf) return { kind: 'int', bits, signed: false };
        return none; // floating point, complex, decimal: not in a general register
      }
      case TAG.enumeration: {
        const under = this.typeOfDie(this.follow(die, AT.type));
        if (under?.kind === 'int') return under;
        const bits = (this.num(die, AT.byteSize) ?? 4) * 8;
        return bits === 8 || bits === 16 || bits === 32 || bits === 64 ? { kind: 'int', bits, signed: false } : none;
      }
      case TAG.pointer:
      case TAG.reference:
      case TAG.rvalueReference: {
        const target = this.follow(die, AT.type);
        const bare = target && this.unqualified(target);
        // Behind a pointer a record is opaque; its fields are in `records` (see recordOf).
        const t = bare && RECORD_TAGS.has(bare.tag) ? this.recordOf(bare, false) : this.typeOfDie(target);
        return { kind: 'pointer', target: t ?? none, userSpace: true };
      }
      case TAG.typedef:
      case TAG.const:
      case TAG.volatile:
      case TAG.restrict:
      case TAG.atomic:
        return this.typeOfDie(this.follow(die, AT.type));
      case TAG.structure:
      case TAG.class:
      case TAG.union:
        return this.recordOf(die, true);
      case TAG.array: {
        const elementDie = this.follow(die, AT.type);
        let element = this.typeOfDie(elementDie);
        if (!element) return none;
        const dims = die.children.map((c) => this.dies.get(c)).filter((c): c is Die => c?.tag === TAG.subrange);
        // A char array is a string, as bpftrace 0.17 reads DWARF (`char name[8]`, `unsigned char b[4]`).
        const base = elementDie && this.unqualified(elementDie);
        const enc = base?.tag === TAG.baseType ? this.num(base, AT.encoding) : undefined;
        if (dims.length === 1 && (enc === ATE.signedChar || enc === ATE.unsignedChar) && this.num(base!, AT.byteSize) === 1) {
          const count = this.num(dims[0]!, AT.count) ?? (this.num(dims[0]!, AT.upperBound) ?? -1) + 1;
          if (count > 0) return { kind: 'string', size: count };
        }
        for (const d of dims.reverse()) {
          const count = this.num(d, AT.count) ?? (this.num(d, AT.upperBound) ?? -1) + 1;
          element = { kind: 'array', element, length: Math.max(count, 0) };
        }
        return element;
      }
      default:
        return none;
    }
  }

  /** The type under typedefs and qualifiers (undefined for void). */
  private unqualified(die: Die): Die | undefined {
    let d: Die | undefined = die;
    while (d && QUALIFIER_TAGS.has(d.tag)) d = this.follow(d, AT.type);
    return d;
  }

  /** A struct/union DIE as a record: in full (kept in `full`), or opaque (name and size). */
  private recordOf(die: Die, fullRecord: boolean): RecordType {
    const keyword = die.tag === TAG.union ? 'union' : 'struct';
    const name = `${keyword} ${this.nameOf(die, false) ?? `(anonymous at ${die.offset.toString(16)})`}`;
    const size = this.num(die, AT.byteSize) ?? 0;
    const known = this.full.get(die.offset);
    if (!known && die.attrs.get(AT.declaration) === undefined) {
      const fields: RecordField[] = [];
      const record: RecordType = { kind: 'record', name, size, fields, userSpace: true };
      this.full.set(die.offset, record);
      for (const c of die.children) {
        const m = this.dies.get(c);
        if (m?.tag !== TAG.member || m.attrs.get(AT.bitSize) !== undefined) continue; // bit-fields: not read
        const mt = this.typeOfDie(this.follow(m, AT.type));
        if (!mt || mt.kind === 'none') continue;
        const name = this.nameOf(m, false);
        const offset = this.memberOffset(m);
        // An anonymous struct/union's members are the record's own (C11), at their offsets in it.
        if (name === undefined && mt.kind === 'record') fields.push(...mt.fields.map((f) => ({ ...f, offset: f.offset + offset })));
        else if (name !== undefined) fields.push({ name, type: mt, offset });
      }
    }
    const full = this.full.get(die.offset);
    return fullRecord && full ? full : { kind: 'record', name, size, fields: [], userSpace: true };
  }

  /** DW_AT_data_member_location: a constant, or DW_OP_plus_uconst N (0x23); 0 in a union. */
  private memberOffset(m: Die): number {
    const v = m.attrs.get(AT.dataMemberLocation);
    if (typeof v === 'number') return v;
    if (Buffer.isBuffer(v) && v[0] === 0x23) return readLeb(v, { at: 1 });
    const bits = this.num(m, AT.dataBitOffset);
    return bits !== undefined ? Math.floor(bits / 8) : 0;
  }

  // ------------------------------------------------------------------------------------------
  // .debug_info

  /** The offset of the unit whose address ranges hold `address` (.debug_aranges), if it says. */
  private unitAt(address: number): number | undefined {
    const b = this.aranges;
    if (!b) return undefined;
    let next = 0;
    while (next + 16 <= b.length) {
      const { at, end, offsetSize } = initialLength(b, next);
      const unit = readOffset(b, at + 2, offsetSize);
      const addressSize = b[at + 2 + offsetSize]!;
      if (addressSize !== 8 && addressSize !== 4) return undefined;
      // The tuples start at a multiple of twice the address size from the set's start.
      let t = at + 2 + offsetSize + 2;
      t = next + Math.ceil((t - next) / (2 * addressSize)) * (2 * addressSize);
      for (; t + 2 * addressSize <= end; t += 2 * addressSize) {
        const base = addressSize === 8 ? Number(b.readBigUInt64LE(t)) : b.readUInt32LE(t);
        const size = addressSize === 8 ? Number(b.readBigUInt64LE(t + 8)) : b.readUInt32LE(t + 4);
        if (base === 0 && size === 0) break;
        if (address >= base && address < base + size) return unit;
      }
      next = end;
    }
    return undefined;
  }

  /** Reads every unit's DIEs (once). */
  private parse(): void {
    if (this.parsed) return;
    this.parsed = true;
    let at = 0;
    while (at + 11 <= this.info.length) {
      const end = this.parseUnit(at);
      if (end === undefined) return;
      at = end;
    }
  }

  /** Reads the DIEs of the unit at `unit` (once); returns where the next unit starts. */
  private parseUnit(unit: number): number | undefined {
    const info = this.info;
    const header = initialLength(info, unit);
    const { end, offsetSize } = header;
    let at = header.at;
    const version = info.readUInt16LE(at);
    at += 2;
    let abbrevOffset: number;
    let addressSize: number;
    if (version >= 5) {
      const unitType = info[at]!;
      addressSize = info[at + 1]!;
      abbrevOffset = readOffset(info, at + 2, offsetSize);
      at += 2 + offsetSize;
      if (unitType === 4 || unitType === 5) at += 8; // skeleton, split_compile: dwo_id
      else if (unitType === 2 || unitType === 6) at += 8 + offsetSize; // type units: signature, type offset
    } else {
      abbrevOffset = readOffset(info, at, offsetSize);
      addressSize = info[at + offsetSize]!;
      at += offsetSize + 1;
    }
    if (version < 2 || version > 5 || end > info.length) return undefined;
    if (this.unitsRead.has(unit)) return end;
    this.unitsRead.add(unit);
    const unitCtx: UnitContext = { start: unit, offsetSize, addressSize, version, strOffsetsBase: 8, abbrevs: this.abbrevTable(abbrevOffset) };
    this.parseDies(at, end, unitCtx);
    return end;
  }

  private parseDies(at: number, end: number, unit: UnitContext): void {
    const parents: Die[] = [];
    const cursor = { at };
    while (cursor.at < end) {
      const offset = cursor.at;
      const code = readLeb(this.info, cursor);
      if (code === 0) {
        parents.pop();
        continue;
      }
      const abbrev = unit.abbrevs.get(code);
      if (!abbrev) return; // a unit we cannot read: the rest of it is skipped
      const attrs = new Map<number, AttrValue>();
      for (const a of abbrev.attrs) {
        const v = this.readForm(a.form, cursor, unit, a.implicit);
        if (v !== undefined) attrs.set(a.at, v);
      }
      if (abbrev.tag === TAG.compileUnit || abbrev.tag === TAG.partialUnit) {
        const base = attrs.get(AT.strOffsetsBase);
        if (typeof base === 'number') unit.strOffsetsBase = base;
      }
      const die: Die = { offset, tag: abbrev.tag, attrs, children: [] };
      this.dies.set(offset, die);
      parents.at(-1)?.children.push(offset);
      if (abbrev.children) parents.push(die);
    }
  }

  private abbrevTable(offset: number): Map<number, Abbrev> {
    const table = new Map<number, Abbrev>();
    const b = this.abbrev;
    const cursor = { at: offset };
    while (cursor.at < b.length) {
      const code = readLeb(b, cursor);
      if (code === 0) break;
      const tag = readLeb(b, cursor);
      const children = b[cursor.at++] === 1;
      const attrs: AbbrevAttr[] = [];
      for (;;) {
        const at = readLeb(b, cursor);
        const form = readLeb(b, cursor);
        if (at === 0 && form === 0) break;
        attrs.push(form === 0x21 ? { at, form, implicit: readLeb(b, cursor, true) } : { at, form });
      }
      table.set(code, { tag, children, attrs });
    }
    return table;
  }

  /** One attribute value; the cursor moves past it. Blocks other than exprloc are not kept. */
  private readForm(form: number, c: { at: number }, unit: UnitContext, implicit?: number): AttrValue | undefined {
    const b = this.info;
    const u = (n: number) => {
      const v = n === 1 ? b[c.at]! : n === 2 ? b.readUInt16LE(c.at) : n === 3 ? b.readUIntLE(c.at, 3) : n === 4 ? b.readUInt32LE(c.at) : Number(b.readBigUInt64LE(c.at));
      c.at += n;
      return v;
    };
    const block = (n: number) => {
      const data = b.subarray(c.at, c.at + n);
      c.at += n;
      return data;
    };
    switch (form) {
      case 0x01: return u(unit.addressSize); // addr
      case 0x03: return block(u(2)); // block2
      case 0x04: return block(u(4)); // block4
      case 0x05: return u(2); // data2
      case 0x06: return u(4); // data4
      case 0x07: return u(8); // data8
      case 0x08: { // string
        const end = b.indexOf(0, c.at);
        const s = b.toString('utf8', c.at, end);
        c.at = end + 1;
        return s;
      }
      case 0x09: case 0x18: return block(readLeb(b, c)); // block, exprloc
      case 0x0a: return block(u(1)); // block1
      case 0x0b: return u(1); // data1
      case 0x0c: return u(1); // flag
      case 0x0d: return readLeb(b, c, true); // sdata
      case 0x0e: return cstring(this.str, u(unit.offsetSize)); // strp
      case 0x0f: return readLeb(b, c); // udata
      case 0x10: return { ref: u(unit.version <= 2 ? unit.addressSize : unit.offsetSize) }; // ref_addr
      case 0x11: return { ref: unit.start + u(1) };
      case 0x12: return { ref: unit.start + u(2) };
      case 0x13: return { ref: unit.start + u(4) };
      case 0x14: return { ref: unit.start + u(8) };
      case 0x15: return { ref: unit.start + readLeb(b, c) };
      case 0x16: return this.readForm(readLeb(b, c), c, unit); // indirect
      case 0x17: case 0x1d: case 0x1c: return u(form === 0x1c ? 4 : unit.offsetSize); // sec_offset, strp_sup, ref_sup4
      case 0x19: return 1; // flag_present
      case 0x1a: return this.strx(readLeb(b, c), unit); // strx
      case 0x1b: case 0x22: case 0x23: return readLeb(b, c); // addrx, loclistx, rnglistx
      case 0x1e: c.at += 16; return undefined; // data16
      case 0x1f: return cstring(this.lineStr, u(unit.offsetSize)); // line_strp
      case 0x20: case 0x24: c.at += 8; return undefined; // ref_sig8, ref_sup8
      case 0x21: return implicit ?? 0; // implicit_const
      case 0x25: return this.strx(u(1), unit);
      case 0x26: return this.strx(u(2), unit);
      case 0x27: return this.strx(u(3), unit);
      case 0x28: return this.strx(u(4), unit);
      case 0x29: return u(1); case 0x2a: return u(2); case 0x2b: return u(3); case 0x2c: return u(4); // addrx1..4
      case 0x1f01: case 0x1f02: return readLeb(b, c); // GNU_addr_index, GNU_str_index
      case 0x1f20: case 0x1f21: return u(unit.offsetSize); // GNU_ref_alt, GNU_strp_alt
      default: throw new Error(`unknown DWARF form 0x${form.toString(16)}`);
    }
  }

  private strx(index: number, unit: UnitContext): string | undefined {
    const table = this.strOffsets;
    const at = unit.strOffsetsBase + index * unit.offsetSize;
    if (!table || at + unit.offsetSize > table.length) return undefined;
    return cstring(this.str, readOffset(table, at, unit.offsetSize));
  }
}

interface UnitContext {
  readonly start: number;
  readonly offsetSize: number;
  readonly addressSize: number;
  readonly version: number;
  strOffsetsBase: number;
  readonly abbrevs: ReadonlyMap<number, Abbrev>;
}

/**
 * A section's bytes, uncompressed: debug files (Debian's dbgsym, libc6-dbg) compress theirs
 * (SHF_COMPRESSED: an Elf64_Chdr, then zlib's stream; zstd is not read).
 */
function sectionBytes(elf: ElfFile, name: string): Buffer | undefined {
  const s = elf.section(name);
  if (!s) return undefined;
  const data = elf.sectionData(s);
  if (!(Number(s.flags) & SHF_COMPRESSED)) return data;
  const ELFCOMPRESS_ZLIB = 1;
  if (data.length < 24 || data.readUInt32LE(0) !== ELFCOMPRESS_ZLIB) return undefined;
  try {
    return inflateSync(data.subarray(24));
  } catch {
    return undefined;
  }
}

function isRef(v: AttrValue): v is Ref {
  return typeof v === 'object' && !Buffer.isBuffer(v);
}

/** A unit's (or address-range set's) initial length: where its header goes on, where it ends, 4 or 8-byte offsets. */
function initialLength(b: Buffer, at: number): { at: number; end: number; offsetSize: number } {
  const length = b.readUInt32LE(at);
  if (length !== 0xffffffff) return { at: at + 4, end: at + 4 + length, offsetSize: 4 };
  return { at: at + 12, end: at + 12 + Number(b.readBigUInt64LE(at + 4)), offsetSize: 8 };
}

function readOffset(b: Buffer, at: number, size: number): number {
  return size === 8 ? Number(b.readBigUInt64LE(at)) : b.readUInt32LE(at);
}

function cstring(section: Buffer | undefined, at: number): string | undefined {
  if (!section || at >= section.length) return undefined;
  const end = section.indexOf(0, at);
  return section.toString('utf8', at, end < 0 ? section.length : end);
}

/** A LEB128 number (unsigned, or `signed`); the cursor moves past it. */
function readLeb(b: Buffer, c: { at: number }, signed = false): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const byte = b[c.at++]!;
    result += (byte & 0x7f) * scale;
    scale *= 128;
    if (!(byte & 0x80)) return signed && byte & 0x40 ? result - scale : result;
  }
}
