// x86-64 `struct pt_regs`: where each register is saved. reg("name") uses the kernel's member
// names; USDT argument specs use assembler names (%eax, %r8d...), mapped to the same slots.

/** Kernel member names of struct pt_regs, in order (8 bytes each). */
export const PT_REGS: ReadonlyMap<string, number> = new Map([
  'r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di',
  'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss',
].map((r, i) => [r, i * 8]));

const slot = (name: string) => PT_REGS.get(name)!;

/** Registers of the first six integer arguments (System V AMD64). */
export const ARG_REGS: readonly number[] = ['di', 'si', 'dx', 'cx', 'r8', 'r9'].map(slot);
export const PT_REGS_RAX = slot('ax');
export const PT_REGS_RSP = slot('sp');
export const PT_REGS_RIP = slot('ip');
export const PT_REGS_CS = slot('cs');

const ASSEMBLER_NAMES: ReadonlyMap<string, number> = (() => {
  const names = new Map<string, number>();
  for (const [member, aliases] of [
    ['ax', 'rax eax ax al'], ['bx', 'rbx ebx bx bl'], ['cx', 'rcx ecx cx cl'], ['dx', 'rdx edx dx dl'],
    ['si', 'rsi esi si sil'], ['di', 'rdi edi di dil'], ['bp', 'rbp ebp bp bpl'], ['sp', 'rsp esp sp spl'], ['ip', 'rip eip ip'],
  ] as const) {
    for (const n of aliases.split(' ')) names.set(n, slot(member));
  }
  for (let r = 8; r <= 15; r++) {
    for (const suffix of ['', 'd', 'w', 'b']) names.set(`r${r}${suffix}`, slot(`r${r}`));
  }
  return names;
})();

/** The pt_regs offset of a register as an assembler (and a USDT note) names it, e.g. `eax`. */
export function assemblerRegister(name: string): number | undefined {
  return ASSEMBLER_NAMES.get(name);
}
