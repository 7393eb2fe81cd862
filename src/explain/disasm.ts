// A BPF disassembler for --explain: one instruction (8 bytes; 16 for a 64-bit immediate load) to
// text in the notation of llvm-objdump and the kernel's verifier (`r1 = *(u32 *)(r10 - 8)`), with
// helper calls and map loads named.
import { Helper } from '../model/object-layout.js';

export interface Instruction {
  /** Index in the program, in 8-byte slots (as jumps and the verifier count). */
  readonly index: number;
  /** Slots it takes: 2 for a 64-bit immediate load, else 1. */
  readonly slots: number;
  readonly text: string;
  /** The helper id, for a call. */
  readonly helper?: number;
  /** The map symbol (from the object's relocations), for a load of a map's address. */
  readonly map?: string;
}

/** bpf_<name> of each helper codegen calls, by id (`mapLookupElem` → `bpf_map_lookup_elem`). */
const HELPER_NAMES = new Map<number, string>(
  Object.entries(Helper).map(([name, id]) => [id, `bpf_${name.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)}`]),
);

export function helperName(id: number): string {
  return HELPER_NAMES.get(id) ?? `helper#${id}`;
}

const ALU_OPS: Readonly<Record<number, string>> = {
  0x00: '+=', 0x10: '-=', 0x20: '*=', 0x30: '/=', 0x40: '|=', 0x50: '&=', 0x60: '<<=', 0x70: '>>=',
  0x90: '%=', 0xa0: '^=', 0xb0: '=', 0xc0: 's>>=',
};
const JUMP_OPS: Readonly<Record<number, string>> = {
  0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&', 0x50: '!=', 0x60: 's>', 0x70: 's>=', 0xa0: '<', 0xb0: '<=',
  0xc0: 's<', 0xd0: 's<=',
};
const SIZES: Readonly<Record<number, string>> = { 0x00: 'u32', 0x08: 'u16', 0x10: 'u8', 0x18: 'u64' };
const ATOMIC_OPS: Readonly<Record<number, string>> = { 0x00: '+=', 0x40: '|=', 0x50: '&=', 0xa0: '^=' };
/** The same operations with BPF_FETCH (imm | 1): the old value comes back in the source register. */
const FETCH_OPS: Readonly<Record<number, string>> = { 0x00: 'add', 0x40: 'or', 0x50: 'and', 0xa0: 'xor' };

const BPF_LD = 0;
const BPF_LDX = 1;
const BPF_ST = 2;
const BPF_STX = 3;
const BPF_ALU = 4;
const BPF_JMP = 5;
const BPF_JMP32 = 6;
const BPF_ALU64 = 7;
const BPF_PSEUDO_MAP_FD = 1;
const BPF_PSEUDO_MAP_VALUE = 2;
const BPF_PSEUDO_CALL = 1;

function memory(size: number, base: number, off: number): string {
  return `*(${SIZES[size]} *)(r${base} ${off < 0 ? '-' : '+'} ${Math.abs(off)})`;
}

/**
 * Decodes the instructions of one program's code. Unknown encodings show as `.insn` with their bytes.
 * `relocations` names the symbol an instruction refers to (a map's address in an object file).
 */
export function disassemble(code: Buffer, relocations?: ReadonlyMap<number, string>): Instruction[] {
  const out: Instruction[] = [];
  for (let i = 0; i * 8 + 8 <= code.length; ) {
    const o = i * 8;
    const op = code[o]!;
    const dst = code[o + 1]! & 0xf;
    const src = code[o + 1]! >> 4;
    const off = code.readInt16LE(o + 2);
    const imm = code.readInt32LE(o + 4);
    const cls = op & 7;
    const x = (op & 0x08) !== 0;
    let text: string | undefined;
    let slots = 1;
    let helper: number | undefined;
    let map: string | undefined;
    if (cls === BPF_ALU || cls === BPF_ALU64) {
      const r = cls === BPF_ALU64 ? 'r' : 'w';
      const code4 = op & 0xf0;
      if (code4 === 0x80) text = `${r}${dst} = -${r}${dst}`;
      else if (code4 === 0xd0) text = `r${dst} = ${x ? 'be' : 'le'}${imm} r${dst}`;
      else if (ALU_OPS[code4]) {
        const signed = off === 1 && (code4 === 0x30 || code4 === 0x90) ? 's' : '';
        text = `${r}${dst} ${signed}${ALU_OPS[code4]} ${x ? `${r}${src}` : imm}`;
      }
    } else if (cls === BPF_JMP || cls === BPF_JMP32) {
      const r = cls === BPF_JMP ? 'r' : 'w';
      const code4 = op & 0xf0;
      const target = off >= 0 ? `+${off}` : `${off}`;
      if (code4 === 0x00 && cls === BPF_JMP) text = `goto ${target}`;
      else if (code4 === 0x80 && cls === BPF_JMP) {
        if (src === BPF_PSEUDO_CALL) text = `call ${imm >= 0 ? '+' : ''}${imm}`;
        else {
          helper = imm;
          text = `call ${helperName(imm)}#${imm}`;
        }
      } else if (code4 === 0x90 && cls === BPF_JMP) text = 'exit';
      else if (JUMP_OPS[code4]) text = `if ${r}${dst} ${JUMP_OPS[code4]} ${x ? `${r}${src}` : imm} goto ${target}`;
    } else if (cls === BPF_LDX && (op & 0xe0) === 0x60) {
      text = `r${dst} = ${memory(op & 0x18, src, off)}`;
    } else if (cls === BPF_ST && (op & 0xe0) === 0x60) {
      text = `${memory(op & 0x18, dst, off)} = ${imm}`;
    } else if (cls === BPF_STX && (op & 0xe0) === 0x60) {
      text = `${memory(op & 0x18, dst, off)} = r${src}`;
    } else if (cls === BPF_STX && (op & 0xe0) === 0xc0 && ATOMIC_OPS[imm & 0xf0] && (imm & 1) === 0) {
      text = `lock ${memory(op & 0x18, dst, off)} ${ATOMIC_OPS[imm & 0xf0]} ${(op & 0x18) === 0x18 ? 'r' : 'w'}${src}`;
    } else if (cls === BPF_STX && (op & 0xe0) === 0xc0 && FETCH_OPS[imm & 0xf0] && (imm & 0xf) === 1) {
      const w = (op & 0x18) === 0x18 ? 'r' : 'w';
      text = `${w}${src} = atomic_fetch_${FETCH_OPS[imm & 0xf0]}(${memory(op & 0x18, dst, off).slice(1)}, ${w}${src})`;
    } else if (cls === BPF_LD && op === 0x18 && o + 16 <= code.length) {
      slots = 2;
      const value = (BigInt(code.readUInt32LE(o + 12)) << 32n) | BigInt(code.readUInt32LE(o + 4));
      map = relocations?.get(i);
      if (map !== undefined) text = `r${dst} = map[${map}]`;
      else if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE) {
        text = src === BPF_PSEUDO_MAP_FD ? `r${dst} = map[fd ${imm}]` : `r${dst} = map_value[fd ${imm}] + ${code.readInt32LE(o + 12)}`;
      } else text = `r${dst} = ${BigInt.asIntN(64, value)} ll`;
    }
    out.push({
      index: i,
      slots,
      text: text ?? `.insn ${code.subarray(o, o + 8).toString('hex')}`,
      ...(helper !== undefined ? { helper } : {}),
      ...(map !== undefined ? { map } : {}),
    });
    i += slots;
  }
  return out;
}
