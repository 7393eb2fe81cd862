// Exit codes of the tracelet command (documented in README.md; tested in test/cli).
export const ExitCode = {
  /** The program ended: exit(), END after the -c child exited, or no probes left. */
  ok: 0,
  /** The program is wrong: syntax, type or verifier error. Nothing was attached. */
  programError: 1,
  /** Bad command-line usage. */
  usage: 2,
  /** The kernel or system refused: no permission, a probe that cannot attach, a runtime failure. */
  runtimeError: 3,
  /** Stopped by SIGINT (Ctrl-C) after printing the maps: 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM after printing the maps: 128 + 15. */
  terminated: 143,
  /** A bug in tracelet itself (EX_SOFTWARE). */
  internal: 70,
} as const;
