// bin/tracelet raises the stack limit for deeply nested programs (the parser recurses on it) and
// leaves the caller's limit in TRACELET_CALLER_STACK_KIB. Commands tracelet starts (-c, system())
// get the caller's limit back: a 256 MiB limit would also become every thread's default stack.

/** The caller's stack limit in KiB (-1: unlimited), or undefined when tracelet did not change it. */
export function takeCallerStackLimit(): number | undefined {
  const value = process.env.TRACELET_CALLER_STACK_KIB;
  // Out of the environment, so that the commands tracelet starts do not see it.
  delete process.env.TRACELET_CALLER_STACK_KIB;
  if (value === undefined) return undefined;
  if (value === 'unlimited') return -1;
  const kib = Number(value);
  return Number.isInteger(kib) && kib > 0 ? kib : undefined;
}

/** A shell prefix that gives a command the caller's stack limit back (empty when unchanged). */
export function shellStackPrefix(kib: number | undefined): string {
  return kib === undefined ? '' : `ulimit -S -s ${kib < 0 ? 'unlimited' : kib} 2>/dev/null; `;
}
