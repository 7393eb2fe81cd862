// A USDT probe's argument specs, as its ELF note gives them (`-4@%eax 8@-16(%rbp) 4@$5
// -8@(%rdi,%rsi,8)`): size and sign, then an assembler operand. One parser for the type checker
// (which refuses what cannot be read) and the code generator (which reads the rest).
import { assemblerRegister } from './registers.js';

export type UsdtArg =
  | { readonly kind: 'constant'; readonly size: number; readonly signed: boolean; readonly value: bigint }
  | { readonly kind: 'register'; readonly size: number; readonly signed: boolean; readonly register: number }
  /** At base + index * scale + offset (no base or no index: 0 for it). */
  | {
    readonly kind: 'memory'; readonly size: number; readonly signed: boolean; readonly offset: bigint;
    readonly base?: number; readonly index?: number; readonly scale: number;
  }
  /** What cannot be read: a floating-point value, an address relative to %rip (a symbol), an unknown form. */
  | { readonly kind: 'unsupported'; readonly text: string; readonly why: string };

const NUMBER = '-?(?:0x[0-9a-fA-F]+|\\d+)';
const MEMORY = new RegExp(`^(${NUMBER})?\\((?:%(\\w+))?(?:,%(\\w+)(?:,([1248]))?)?\\)$`);

/** Every argument's spec, in order. */
export function usdtArgs(specs: string): UsdtArg[] {
  return specs.trim() === '' ? [] : specs.trim().split(/\s+/).map(usdtArg);
}

export function usdtArg(text: string): UsdtArg {
  const unsupported = (why: string): UsdtArg => ({ kind: 'unsupported', text, why });
  const m = /^(-?)(\d+)(f?)@(.*)$/.exec(text);
  if (!m) return unsupported('not a size@operand spec');
  const size = Number(m[2]);
  const signed = m[1] === '-';
  if (m[3]) return unsupported('a floating-point value');
  if (![1, 2, 4, 8].includes(size)) return unsupported(`a ${size}-byte value`);
  const op = m[4]!;
  let x: RegExpExecArray | null;
  if ((x = new RegExp(`^\\$(${NUMBER})$`).exec(op))) return { kind: 'constant', size, signed, value: BigInt(x[1]!) };
  if ((x = /^%(\w+)$/.exec(op))) {
    const register = assemblerRegister(x[1]!);
    return register === undefined ? unsupported(`register %${x[1]}`) : { kind: 'register', size, signed, register };
  }
  if ((x = MEMORY.exec(op)) && (x[2] !== undefined || x[3] !== undefined)) {
    if (x[2] === 'rip' || x[2] === 'eip') return unsupported('an address relative to %rip (a variable of the program)');
    const base = x[2] === undefined ? undefined : assemblerRegister(x[2]);
    const index = x[3] === undefined ? undefined : assemblerRegister(x[3]);
    if ((x[2] !== undefined && base === undefined) || (x[3] !== undefined && index === undefined)) return unsupported('an unknown register');
    return {
      kind: 'memory', size, signed, offset: x[1] ? BigInt(x[1]) : 0n, scale: x[4] ? Number(x[4]) : 1,
      ...(base !== undefined ? { base } : {}), ...(index !== undefined ? { index } : {}),
    };
  }
  if (/\(%[re]?ip\)$/.test(op)) return unsupported('an address relative to %rip (a variable of the program)');
  return unsupported('an operand form tracelet does not read');
}
