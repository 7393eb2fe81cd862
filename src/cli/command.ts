// The -c command, found as execvp(3) finds it, so that a command that cannot run is refused
// before anything else happens (bpftrace also refuses it up front).
import { accessSync, constants, statSync } from 'node:fs';
import { constants as os } from 'node:os';

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
  return cannot(denied ? strerror(os.errno.EACCES) : 'command not found in PATH');
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
