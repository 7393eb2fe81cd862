// Exit codes of the tracelet command. EXIT_CODES is the one table: --help prints it, README.md's
// "Exit codes" table repeats it (test/cli checks that they agree).
export const ExitCode = {
  /** The program ended, or was stopped by SIGINT/SIGTERM after printing the maps (as bpftrace). */
  ok: 0,
  /** The program is wrong: syntax, type or verifier error, or no probes. Nothing was attached. Also: a --test test failed. */
  programError: 1,
  /** Bad command-line usage (1, as bpftrace). */
  usage: 1,
  /** The system refused: a file or -c command that cannot be used, a probe that cannot attach, a runtime failure (255, as bpftrace). */
  runtimeError: 255,
  /** A bug in tracelet itself (EX_SOFTWARE). */
  internal: 70,
} as const;

/** Each exit code and what it means, in the words --help and README.md show. */
export const EXIT_CODES: readonly { readonly code: number; readonly meaning: string }[] = [
  {
    code: ExitCode.ok,
    meaning: 'the program ended: exit() (exit(N): N, 0-255), the traced command ended, or a stop by SIGINT (Ctrl-C) or SIGTERM; the maps were printed',
  },
  {
    code: ExitCode.programError,
    meaning: 'the program is wrong (syntax, type or verifier error, or no probes: nothing was attached), or the command line is (an unknown option, a bad value); with --test: a test failed',
  },
  {
    code: ExitCode.runtimeError,
    meaning: 'the system refused: a program file that cannot be read, a -c command that cannot be run, a probe that cannot be attached, no permission, output that cannot be written (a full disk), a runtime failure',
  },
  { code: ExitCode.internal, meaning: 'an internal error in tracelet (a bug: please report it)' },
];

/** The table for --help (its last line without the newline: commander adds it). */
export function exitCodesHelp(): string {
  return `Exit codes:\n${EXIT_CODES.map((e) => `  ${String(e.code).padEnd(4)}${e.meaning}`).join('\n')}`;
}
