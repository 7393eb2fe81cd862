// The -c command, found as execvp(3) finds it, so that a command that cannot run is refused
// before anything else happens (bpftrace also refuses it up front), and started held until the
// probes are attached.
import { accessSync, closeSync, constants, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { isElfFile } from '../kernel/elf.js';
import { constants as os } from 'node:os';
import { native } from './native.js';

export interface ResolvedCommand {
  /** The file to execve. */
  readonly path: string;
  readonly argv: readonly string[];
}

/** `command` split on blanks, with the file its first word runs; or why it cannot run. */
export function resolveCommand(command: string, strerror: (errno: number) => string): ResolvedCommand | { error: string } {
  const argv = command.trim().split(/\s+/).filter((w) => w !== '');
  const name = argv[0];
  if (name === undefined) return { error: '-c: the command is empty' };
  const cannot = (reason: string) => ({ error: `cannot run '${name}': ${reason}` });
  if (name.includes('/')) {
    const errno = execError(name);
    return errno === undefined ? { path: name, argv } : cannot(strerror(errno));
  }
  // As execvp: the first executable of that name in PATH; EACCES if only unrunnable ones exist.
  let denied = false;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const candidate = `${dir || '.'}/${name}`;
    const errno = execError(candidate);
    if (errno === undefined) return { path: candidate, argv };
    if (errno === os.errno.EACCES) denied = true;
  }
  // bpftrace 0.17 also runs a program of that name in the current directory (`-c prog` runs ./prog).
  if (execError(name) === undefined && isElfFile(name)) return { path: `./${name}`, argv };
  return cannot(denied ? strerror(os.errno.EACCES) : 'command not found in PATH');
}

function signalChild(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch { /* already gone */ }
}

/** Waits up to `ms` for the child to end, reaping it; whether it did. */
function reaped(pid: number, ms: number): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited <= ms; waited++) {
    if (native().childStatus(pid) !== undefined) return true;
    Atomics.wait(pause, 0, 0, 1);
  }
  return false;
}

/** The errno execve would fail with for lack of the file or permission (a directory: EACCES). */
function execError(path: string): number | undefined {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile() ? undefined : os.errno.EACCES;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return (code && (os.errno as Record<string, number>)[code]) || os.errno.ENOENT;
  }
}

export interface HeldChild {
  readonly pid: number;
  /**
   * Waits (at most a second) until the child is blocked in its read of the gate: under load, a
   * child forked just before may not have reached it when the probes attach, which would then see
   * that read begin (bpftrace's child shows only its end).
   */
  waitHeld(): void;
  /** Lets the child exec the command (its end is seen by the session, as with -p). */
  release(): void;
  /** Ends the child if it still runs and reaps it; returns the errno of its exec if that failed. */
  kill(): number | undefined;
}

/** Whether a process sleeps in a pipe read (its state and wait channel in /proc); false once gone. */
function blockedInRead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat[stat.lastIndexOf(')') + 2] !== 'S') return false;
    const wchan = readFileSync(`/proc/${pid}/wchan`, 'latin1');
    // Without kallsyms access the wait channel reads as 0: sleeping is all that can be known.
    return /pipe_read$/.test(wchan) || wchan === '0' || wchan === '';
  } catch {
    return true;
  }
}

/**
 * Starts `command` held before its exec, as bpftrace does: the pid (cpid) is known and probes can
 * target it before the command runs, and once released it makes one read and one close before
 * its execve. Its stdin, stdout and stderr are ours; `stackKib` is the stack limit it gets back
 * (see src/cli/stack-limit.ts), `ignored` the signals it starts with ignored (every other one has
 * its default action).
 */
export function spawnHeld(command: ResolvedCommand, stackKib?: number, ignored: readonly number[] = []): HeldChild {
  const { pid, gate, report } = native().spawnHeld(command.path, command.argv, stackKib, ignored);
  let gateOpen = true;
  const closeGate = () => {
    if (gateOpen) closeSync(gate);
    gateOpen = false;
  };
  let reportOpen = true;
  // Read once the child has ended: then it holds a failed exec's errno, or nothing (EOF).
  const execErrno = (): number | undefined => {
    if (!reportOpen) return undefined;
    reportOpen = false;
    const errno = Buffer.alloc(4);
    try {
      return readSync(report, errno) === errno.length ? errno.readInt32LE(0) : undefined;
    } finally {
      closeSync(report);
    }
  };
  return {
    pid,
    waitHeld: () => {
      const pause = new Int32Array(new SharedArrayBuffer(4));
      for (let tries = 0; tries < 1000 && !blockedInRead(pid); tries++) Atomics.wait(pause, 0, 0, 1);
    },
    release: () => {
      writeSync(gate, '\n');
      closeGate();
    },
    kill: () => {
      closeGate(); // a child still held sees EOF and exits
      // It is this process's own child, not one Node spawned: reaped here, not left a zombie
      // (init does not reap everywhere). SIGTERM, half a second to end, then SIGKILL.
      if (native().childStatus(pid) === undefined) {
        signalChild(pid, 'SIGTERM');
        if (!reaped(pid, 500)) {
          signalChild(pid, 'SIGKILL');
          reaped(pid, 5000);
        }
      }
      return execErrno();
    },
  };
}
