// Linux signal numbers (x86-64), for signal("NAME").

const SIGNALS = ['HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE',
  'ALRM', 'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF',
  'WINCH', 'IO', 'PWR', 'SYS'];

/** `SIGKILL` / `KILL` → 9. */
export function signalNumber(name: string): number | undefined {
  const i = SIGNALS.indexOf(name.replace(/^SIG/, ''));
  return i < 0 ? undefined : i + 1;
}
