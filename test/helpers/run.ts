// Runs the tracelet command as a user would, for end-to-end tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The command as users run it (from the start-up snapshot when it is built and fresh). */
export const BIN = fileURLToPath(new URL('../../bin/tracelet', import.meta.url));

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs tracelet to completion (it must end by itself, e.g. with exit()). */
export function runTracelet(
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): RunResult {
  const r = spawnSync(BIN, args, {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    // Some runs print megabytes (thousands of stacks): more than spawnSync's 1 MiB default.
    maxBuffer: 64 << 20,
    env: { ...process.env, ...options.env },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status, signal: r.signal };
}

/** A tracelet process that runs until told to stop; `attached` resolves once its probes are attached. */
export interface Running {
  readonly child: ChildProcess;
  readonly attached: Promise<void>;
  /** Resolves when the process has exited. */
  readonly done: Promise<RunResult>;
  output(): { stdout: string; stderr: string };
}

/** `ignoring`: signals tracelet starts with ignored, as `nohup` (HUP) or a shell's background job leaves them. */
export function startTracelet(args: readonly string[], env: NodeJS.ProcessEnv = {}, ignoring: readonly string[] = []): Running {
  // The shell sets them ignored, then becomes tracelet (same pid): the disposition is inherited.
  const [file, argv] = ignoring.length === 0 ? [BIN, args] : ['sh', ['-c', `trap '' ${ignoring.join(' ')}; exec "$0" "$@"`, BIN, ...args]];
  const child = spawn(file, argv, {
    env: { ...process.env, __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let notifyAttached: () => void = () => {};
  let failAttached: (e: Error) => void = () => {};
  const attached = new Promise<void>((resolve, reject) => {
    notifyAttached = resolve;
    failAttached = reject;
  });
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.includes('__BPFTRACE_NOTIFY_PROBES_ATTACHED')) notifyAttached();
  });
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => {
      failAttached(new Error(`tracelet exited before attaching (code ${code}): ${stderr}`));
      resolve({ stdout, stderr: stderr.replace('__BPFTRACE_NOTIFY_PROBES_ATTACHED\n', ''), code, signal });
    });
  });
  return { child, attached, done, output: () => ({ stdout, stderr }) };
}

/** Names of loaded BPF programs that are ours (tl_ prefix). */
export function ourPrograms(): string[] {
  const r = spawnSync('bpftool', ['prog', 'list', '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpftool failed: ${r.stderr}`);
  const progs = JSON.parse(r.stdout) as { name?: string }[];
  return progs.map((p) => p.name ?? '').filter((n) => n.startsWith('tl_'));
}

/** Waits until no program of ours is loaded (teardown may finish just after exit), or times out. */
export async function waitForNoPrograms(timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = ourPrograms();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = ourPrograms();
  }
  return left;
}
