// The classic tools of examples/ (execsnoop, biolatency, tcplife, memleak, ...) on the real
// kernel: each runs against a workload the test makes and must report a line about it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracelet } from '../helpers/run.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const comm = readFileSync('/proc/self/comm', 'utf8').trim();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-examples-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs an example until the workload is done, then stops it with Ctrl-C; returns its output. */
async function run(
  example: string,
  workload: () => void | Promise<void>,
  args: readonly string[] = [],
): Promise<string> {
  const t = startTracelet([...args.filter((a) => a.startsWith('-')), `${EXAMPLES}${example}`, ...args.filter((a) => !a.startsWith('-'))]);
  await t.attached;
  await workload();
  // Let the last events of the workload reach the ring buffer reader.
  await new Promise((r) => setTimeout(r, 100));
  t.child.kill('SIGINT');
  const r = await t.done;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** A TCP connection to a local server: the client sends `bytes` bytes, then both ends close. */
async function tcpSession(bytes: number): Promise<number> {
  const server = createServer((s) => {
    s.resume();
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    const c = createConnection(port, '127.0.0.1', () => c.end(Buffer.alloc(bytes, 1)));
    c.on('error', reject);
    c.on('close', () => resolve());
    c.resume();
  });
  await new Promise((r) => server.close(r));
  return port;
}

const ip = (s: string): string => s.replace(/\./g, '\\.');

describe('classic tools', () => {
  it('execsnoop shows the program the test runs, with its arguments', async () => {
    const out = await run('execsnoop.bt', () => {
      spawnSync('/bin/true', ['tl-exec-marker']);
    });
    expect(out, out).toMatch(/\n\d+ +\d+ +\/bin\/true tl-exec-marker\n/);
  });

  it('statsnoop shows a failed stat of a missing file (ENOENT)', async () => {
    const out = await run('statsnoop.bt', () => {
      expect(() => statSync('/tl-missing-file')).toThrow();
    });
    expect(out, out).toMatch(new RegExp(`\\n${process.pid} +${comm} +2 /tl-missing-file\\n`));
  });

  it('funccount counts each scheduler tracepoint', async () => {
    const out = await run('funccount.bt', () => new Promise((r) => setTimeout(r, 50)));
    expect(out, out).toMatch(/\n@\[tracepoint:sched:sched_switch\]: \d+\n/);
  });

  it('runqlen samples the run queue length', async () => {
    const out = await run('runqlen.bt', () => new Promise((r) => setTimeout(r, 500)));
    expect(out, out).toMatch(/\n@runqlen: \n(\[\d+, \d+\) +\d+ \|@*\s*\|\n)+/);
  });

  it('cpudist shows the on-CPU time of a process that ran', async () => {
    const out = await run('cpudist.bt', () => {
      spawnSync('dd', ['if=/dev/zero', 'of=/dev/null', 'count=20000']);
    });
    expect(out, out).toMatch(/\n@usecs\[dd\]: \n\[/);
  });

  describe('block I/O (direct writes to a file on this machine disk)', () => {
    const write = (): void => {
      execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'direct')}`, 'bs=4096', 'count=8', 'oflag=direct'], { stdio: 'ignore' });
    };

    it('biolatency has a histogram of the writes', async () => {
      const out = await run('biolatency.bt', write);
      expect(out, out).toMatch(/\n@usecs: \n(\[.*\n)+/);
    });

    it('biosnoop shows one 4096-byte write of dd', async () => {
      const out = await run('biosnoop.bt', write);
      expect(out, out).toMatch(/\n\d+ +dd +\d+,\d+ +W\S* +\d+ +4096 +\d+\n/);
    });
  });

  it('fileiolat has a read latency histogram of the test process', async () => {
    const out = await run('fileiolat.bt', () => {
      readFileSync('/etc/services');
    });
    expect(out, out).toMatch(new RegExp(`\\n@usecs\\[tracepoint:syscalls:sys_exit_p?read(64)?, ${comm}\\]: \\n\\[`));
  });

  describe('TCP on localhost', () => {
    it('tcpconnect shows the connection the test makes', async () => {
      let port = 0;
      const out = await run('tcpconnect.bt', async () => {
        port = await tcpSession(10);
      });
      expect(out, out).toMatch(new RegExp(`\\n\\d\\d:\\d\\d:\\d\\d +${process.pid} +${comm} +${ip('127.0.0.1')} +${port}\\n`));
    });

    it('tcpaccept shows the connection the server accepts', async () => {
      let port = 0;
      const out = await run('tcpaccept.bt', async () => {
        port = await tcpSession(10);
      });
      expect(out, out).toMatch(new RegExp(`\\n\\d\\d:\\d\\d:\\d\\d +${ip('127.0.0.1')} +\\d+ +${ip('127.0.0.1')} +${port}\\n`));
    });

    it('tcplife shows the session with the bytes sent and received', async () => {
      let port = 0;
      const out = await run('tcplife.bt', async () => {
        port = await tcpSession(5000);
      });
      // The client's end: opened by this process, 5000 bytes (4 KiB) sent, none received.
      expect(out, out).toMatch(new RegExp(`\\n${process.pid} +${comm} +${ip('127.0.0.1')} +\\d+ +${ip('127.0.0.1')} +${port} +4 +0 +\\d+\\n`));
    });

    it('tcpretrans shows a SYN retransmitted to a listener whose accept queue is full', async () => {
      // The listener (backlog 0) accepts nothing: the first connection fills its queue, the
      // SYN of the second is dropped and retransmitted after the 1 s initial timeout.
      const script = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
print(port, flush=True)
a = socket.create_connection(('127.0.0.1', port))
b = socket.socket(); b.setblocking(False)
try: b.connect(('127.0.0.1', port))
except BlockingIOError: pass
time.sleep(1.5)
`;
      let port = '';
      const out = await run('tcpretrans.bt', () => {
        port = execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim();
      });
      expect(out, out).toMatch(new RegExp(`\\n\\d\\d:\\d\\d:\\d\\d +\\d+ +${ip('127.0.0.1')}:\\d+ +${ip('127.0.0.1')}:${port} +SYN_SENT\\n`));
    });
  });

  it('gethostlatency shows a lookup through libc getaddrinfo', async () => {
    const out = await run('gethostlatency.bt', async () => {
      await lookup('localhost');
    });
    expect(out, out).toMatch(/\n\d\d:\d\d:\d\d +\d+ +\S+ +\d+ localhost\n/);
  });

  it('bashreadline shows a command typed into an interactive bash', async () => {
    const out = await run('bashreadline.bt', () => new Promise<void>((resolve, reject) => {
      // bash reads with readline only on a terminal: `script` gives it one.
      const sh = spawn('script', ['-qc', 'bash --norc -i', '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let seen = '';
      let typed = false;
      sh.stdout.on('data', (d: Buffer) => {
        seen += d.toString();
        if (!typed && /[#$] $/.test(seen)) {
          typed = true;
          sh.stdin.write('echo tl-readline-marker\nexit\n');
        }
      });
      sh.on('error', reject);
      sh.on('close', () => resolve());
    }));
    expect(out, out).toMatch(/\n\d\d:\d\d:\d\d +\d+ +echo tl-readline-marker\n/);
  });

  it('memleak shows the bytes a process leaked by the stack that allocated them', async () => {
    const leaky = join(dir, 'leaky');
    execFileSync('gcc', ['-O1', '-g', '-o', leaky, join(FIXTURES, 'workloads/leaky.c')]);
    const child = spawn(leaky, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    const example = 'memleak.bt';
    const t = startTracelet(['-p', String(child.pid), `${EXAMPLES}${example}`]);
    await t.attached;
    const leaked = new Promise((r) => child.stdout.once('data', r));
    child.stdin.write('x');
    await leaked;
    t.child.kill('SIGINT');
    const r = await t.done;
    child.stdin.end();
    expect(r.stderr).toBe('');
    // Ten blocks of 4096 bytes kept; the ten of 512 freed do not count.
    expect(r.stdout, r.stdout).toMatch(/\n@outstanding\[\n {4}leak_some\+\d+\n( {4}.*\n)*\]: 40960\n/);
  });

  it('usdt counts the tracelet:tick probes of the test target', async () => {
    const target = join(dir, 'target');
    execFileSync('gcc', ['-O0', '-no-pie', '-o', target, join(FIXTURES, 'probes/target.c')]);
    let pid = 0;
    const out = await run('usdt.bt', () => {
      const r = spawnSync(target, ['5', '0']);
      pid = r.pid;
    }, [target]);
    expect(out, out).toMatch(new RegExp(`\\n@ticks\\[${pid}\\]: 5\\n`));
    expect(out).toMatch(/\n@value: \n\[0, 10\) +1 \|@+\|\n\[10, 20\) +1 /);
  });
});
