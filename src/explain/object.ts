// The parts of a compiled BPF object (an ELF relocatable file, in memory) that --explain shows:
// each program's code, its function symbol, and its BTF line info (instruction → script line).
export interface ObjectProgram {
  /** The function, `tl_...`. */
  readonly name: string;
  /** Its ELF section: `tracepoint/syscalls/sys_enter_kill`, ... */
  readonly section: string;
  readonly code: Buffer;
  /** Source line and column of instructions, sorted by index (from .BTF.ext line_info). */
  readonly lines: readonly LineInfo[];
  /** The symbol each relocated instruction refers to, by instruction index: the maps it loads. */
  readonly relocations: ReadonlyMap<number, string>;
}

export interface LineInfo {
  /** Instruction index (8-byte slots) where the line starts applying. */
  readonly index: number;
  readonly line: number;
  readonly column: number;
}

interface Section {
  readonly name: string;
  readonly type: number;
  readonly data: Buffer;
  readonly link: number;
  /** SHT_REL: the section the relocations apply to. */
  readonly info: number;
}

const SHT_SYMTAB = 2;
const SHT_REL = 9;
const STT_FUNC = 2;
const BTF_MAGIC = 0xeb9f;

function sections(elf: Buffer): Section[] {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) {
    throw new Error('not a 64-bit little-endian ELF object');
  }
  const shoff = Number(elf.readBigUInt64LE(40));
  const shentsize = elf.readUInt16LE(58);
  const shnum = elf.readUInt16LE(60);
  const shstrndx = elf.readUInt16LE(62);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    const offset = Number(elf.readBigUInt64LE(o + 24));
    const size = Number(elf.readBigUInt64LE(o + 32));
    return { nameOffset: elf.readUInt32LE(o), type: elf.readUInt32LE(o + 4), data: elf.subarray(offset, offset + size), link: elf.readUInt32LE(o + 40), info: elf.readUInt32LE(o + 44) };
  });
  const names = raw[shstrndx]!.data;
  return raw.map((s) => ({ name: cString(names, s.nameOffset), type: s.type, data: s.data, link: s.link, info: s.info }));
}

function cString(data: Buffer, offset: number): string {
  const end = data.indexOf(0, offset);
  return data.toString('utf8', offset, end < 0 ? data.length : end);
}

/** .BTF.ext line_info, by section name (object files count instruction offsets in bytes). */
function lineInfo(btf: Buffer | undefined, ext: Buffer | undefined): Map<string, LineInfo[]> {
  const out = new Map<string, LineInfo[]>();
  if (!btf || !ext || btf.readUInt16LE(0) !== BTF_MAGIC || ext.readUInt16LE(0) !== BTF_MAGIC) return out;
  const strings = btf.subarray(btf.readUInt32LE(4) + btf.readUInt32LE(16));
  const extHeader = ext.readUInt32LE(4);
  const start = extHeader + ext.readUInt32LE(16);
  const end = start + ext.readUInt32LE(20);
  const recordSize = ext.readUInt32LE(start);
  for (let o = start + 4; o + 8 <= end; ) {
    const section = cString(strings, ext.readUInt32LE(o));
    const count = ext.readUInt32LE(o + 4);
    const lines: LineInfo[] = [];
    for (let i = 0; i < count; i++) {
      const r = o + 8 + i * recordSize;
      const lineCol = ext.readUInt32LE(r + 12);
      lines.push({ index: ext.readUInt32LE(r) / 8, line: lineCol >>> 10, column: lineCol & 0x3ff });
    }
    out.set(section, lines.sort((a, b) => a.index - b.index));
    o += 8 + count * recordSize;
  }
  return out;
}

/** The programs of an object, in the order of their sections. */
export function readObject(elf: Buffer): ObjectProgram[] {
  const all = sections(elf);
  const lines = lineInfo(all.find((s) => s.name === '.BTF')?.data, all.find((s) => s.name === '.BTF.ext')?.data);
  const symtab = all.find((s) => s.type === SHT_SYMTAB);
  const programs: ObjectProgram[] = [];
  if (!symtab) return programs;
  const names = all[symtab.link]!.data;
  const symbolName = (index: number): string => cString(names, symtab.data.readUInt32LE(index * 24));
  for (let o = 24; o + 24 <= symtab.data.length; o += 24) {
    const info = symtab.data[o + 4]!;
    const shndx = symtab.data.readUInt16LE(o + 6);
    if ((info & 0xf) !== STT_FUNC || shndx === 0 || shndx >= all.length) continue;
    const section = all[shndx]!;
    const value = Number(symtab.data.readBigUInt64LE(o + 8));
    const size = Number(symtab.data.readBigUInt64LE(o + 16));
    const code = section.data.subarray(value, value + size);
    const first = value / 8;
    const last = first + size / 8;
    programs.push({
      name: cString(names, symtab.data.readUInt32LE(o)),
      section: section.name,
      code,
      lines: (lines.get(section.name) ?? [])
        .filter((l) => l.index >= first && l.index < last)
        .map((l) => ({ ...l, index: l.index - first })),
      relocations: relocationsOf(all, shndx, first, last, symbolName),
    });
  }
  return programs.sort((a, b) => all.findIndex((s) => s.name === a.section) - all.findIndex((s) => s.name === b.section));
}

/** The relocations (Elf64_Rel) of section `target` within instructions [first, last), by index from `first`. */
function relocationsOf(all: readonly Section[], target: number, first: number, last: number, symbolName: (index: number) => string): Map<number, string> {
  const found = new Map<number, string>();
  for (const rel of all.filter((s) => s.type === SHT_REL && s.info === target)) {
    for (let o = 0; o + 16 <= rel.data.length; o += 16) {
      const index = Number(rel.data.readBigUInt64LE(o)) / 8;
      if (index >= first && index < last) found.set(index - first, symbolName(Number(rel.data.readBigUInt64LE(o + 8) >> 32n)));
    }
  }
  return found;
}
