// Live differential tests: the same deterministic programs through the installed bpftrace 0.17 and
// through tracelet, stdout compared (text byte for byte, JSON value for value; equal-valued map
// entries as sets). Tracepoint programs are driven by the test itself.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/run.js';
import { normalizeJson, normalizeText } from './normalize.js';

const HAVE_BPFTRACE = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).status === 0;

interface Result { stdout: string; stderr: string; code: number | null }

/** Runs a tracer; once it says its probes are attached, runs `trigger`; resolves when it exits. */
function run(tracer: 'bpftrace' | 'tracelet', args: string[], trigger?: () => void): Promise<Result> {
  const [cmd, argv] = tracer === 'bpftrace' ? ['bpftrace', args] : [BIN, args];
  const child = spawn(cmd, argv, {
    env: { ...process.env, __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let triggered = false;
  // Byte for byte: latin1 keeps every byte as one character (UTF-8 decoding would hide any
  // difference in bytes that are not valid UTF-8).
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!triggered && stderr.includes('__BPFTRACE_NOTIFY_PROBES_ATTACHED')) {
      triggered = true;
      trigger?.();
    }
  });
  const timer = setTimeout(() => child.kill('SIGINT'), 20_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ stdout, stderr, code });
  }));
}

const BEGIN_PROGRAMS: Record<string, string> = {
  aggregations: '@c[1] = count(); @c[2] = count(); @c[2] = count(); @s = sum(-5); @s = sum(12); @a = avg(3); @a = avg(8); '
    + '@mn = min(7); @mn = min(-2); @mx["k"] = max(4); @mx["k"] = max(9); @st = stats(10); @st = stats(30); '
    + '@h = hist(1000); @h = hist(5); @l = lhist(33, 0, 100, 25);',
  'delete/clear/zero/print': '@a[1] = 1; @a[2] = 2; @a[3] = 3; delete(@a[2]); print(@a); @b = count(); zero(@b); print(@b); '
    + 'clear(@a); print(@a); @t[1, "x"] = (5, "y"); print(@t, 1); print(@a, 0, 2);',
  'strings and tuples': '@s["key"] = "value"; @t = (1, "two", -3); $x = ("a", 2); print($x); printf("%s|%5s|%-5s|\\n", "a", "b", "c");',
  'value functions': 'print(ksym(kaddr("vfs_read"))); print(usym(1)); print(ksym(0)); print(usym(0)); @k[ksym(0)] = 1; print(ntop(0x0100007f)); print(ntop(pton("2001:db8::1"))); '
    + 'print(pton("10.1.2.3")); print(strncmp("hello", "help", 3)); print(buf("ab\\x02", 3)); print(sizeof(uint16)); '
    + '@n[ntop(2, 0x0201a8c0)] = 1; @u = username;',
  printf: 'printf("%d %u %x %X %o %c %p %ld %lu %lx %hhd %hd|%-6d|%06d|%.2s\\n", -1, -1, 255, 255, 8, 65, 4096, -1, -1, -1, 300, 70000, 7, 7, "abc");',
  'cat and positional': 'cat("/proc/sys/kernel/ostype"); printf("%d %s\\n", $#, "end");',
  strerror: 'printf("[%s] [%s]\\n", strerror(2), strerror(13));',
  'right shifts (logical in 0.17, also of signed values)': '$a = -8; $c = (int32)-8; $d = -8; $d >>= 1; '
    + 'printf("%ld %ld %ld %d %d %ld\\n", $a >> 1, -8 >> 1, $c >> 1, (1 << 63) >> 63, $a >> 33, $d); @s = $a >> 62;',
  'bytes that are not UTF-8': 'printf("[%s] [%.1s] [%3s] [%s]\\n", "\\xe9A", "\\xe9A", "\\xff", "é"); @m["\\xfe"] = 1; @u["ü"] = 2;',
  'integer types as 0.17 gives them (!, comparisons, && and || unsigned unless both sides are signed; -x of an unsigned x)':
    'print(!0 < -1); print(("a" == "a") < -1); $x = ~!0; print($x); print((1 || (uint8)0) < -1); print((1 && (uint8)1) < -1); '
    + 'print((1 == 1) < -1); print(((int8)1 || 0) < -1); print(-(uint16)1); print(-(uint64)1); print(-(int8)-128); print((0, -(uint8)1)); '
    + '@not = !(uint16)3; @s = sum((uint8)0 || 1); @s = sum(-128);',
  '~ keeps the width of its operand': 'printf("%d %d %d\\n", ~(uint8)0, ~(uint16)1, ~(uint32)0); $a = ~(uint8)3; print($a); '
    + '@m = ~(uint8)0; @k = ~(uint64)0; @j = ~5; @i = ~(int32)7;',
  '?: has the signedness of its first branch': '@c = 0 ? (uint64)5 : -1; @d = 0 ? -1 : (uint64)5; @f = 1 ? (uint8)3 : -1; '
    + '$a = 1 ? (uint64)9 : 0; @a = $a / 2; printf("%d %u\\n", 0 ? (uint32)1 : -1, 0 ? (uint32)1 : -1);',
  // Read back from a map: values the code generator and the verifier cannot know (hist's bucket
  // is computed without a branch; a constant would be folded at compile time).
  // Below 2^31: from there on 0.17 put every value in [2G, 4G), with C int JSON bounds (tracelet
  // buckets up to 2^63, as bpftrace since 0.20: test/e2e/aggregations.test.ts).
  'hist of values known only at run time': [-(2n ** 63n), -1n, 0n, 1n, 2n, 3n, 4n, 7n, 8n, 65535n, 65536n, 2n ** 30n, 2n ** 31n - 1n]
    .map((v, i) => `@in[${i}] = ${v};`).join(' ') + ' $i = 0; while ($i < 13) { $v = @in[$i]; @h = hist($v); @k[(uint64)$i % 2] = hist($v); $i++; } clear(@in);',
  'cleared and untouched maps': '@c = count(); @s = sum(5); @k[1] = count(); clear(@c); clear(@s); clear(@k); print(@c); print(@s); '
    + 'print(@k); @z = count(); zero(@z); print(@z); @n = count(); @n = count();',
};

/** BEGIN programs with positional parameters (after `--`), and the parameters. */
const PARAM_PROGRAMS: Record<string, [string, string[]]> = {
  'positional numbers and text': ['printf("%d %d %d %d %d %d|%s|%s|%s|%s|%s|\\n", $1, $2, $3, $4, $9, $#, str($1), str($5), str($5, 2), str($5 + 1), str($9)); '
    + '@[str($5)] = count(); @n = $2;', ['0x10', '-5', ' 12', '010', 'hello']],
  'positional parameter that is not a number': ['printf("%d\\n", $1);', ['12abc']],
  'str($#)': ['printf("%s\\n", str($#));', []],
};

describe.skipIf(!HAVE_BPFTRACE)('differential: bpftrace 0.17 vs tracelet', () => {
  for (const [name, [body, params]] of Object.entries(PARAM_PROGRAMS)) {
    it(`${name} (text)`, async () => {
      const args = ['-e', `BEGIN { ${body} exit(); }`, '--', ...params];
      const [ref, ours] = await Promise.all([run('bpftrace', args), run('tracelet', args)]);
      expect(ours.code).toBe(ref.code);
      expect(normalizeText(ours.stdout)).toBe(normalizeText(ref.stdout));
      if (ref.code === 0) expect(ours.stdout).toContain('@');
    }, 30_000);
  }

  for (const [name, body] of Object.entries(BEGIN_PROGRAMS)) {
    for (const format of ['text', 'json']) {
      it(`${name} (${format})`, async () => {
        const args = ['-f', format, '-e', `BEGIN { ${body} exit(); }`];
        const [ref, ours] = await Promise.all([run('bpftrace', args), run('tracelet', args)]);
        expect(ours.code).toBe(ref.code);
        if (format === 'text') expect(normalizeText(ours.stdout)).toBe(normalizeText(ref.stdout));
        else expect(normalizeJson(ours.stdout)).toEqual(normalizeJson(ref.stdout));
      }, 30_000);
    }
  }

  it('warnings on signed division and mixed-sign arithmetic are bpftrace 0.17\'s', async () => {
    const body = '$d = 4; $u = (uint32)3; @a = 1 / 2; @b = $u / 2; @c = $d / 2; @e = $u + 1; @f = $u * $d; @g = $u + -1; @h = $u / $d; '
      + '$t = 1 ? (uint64)5 : 0; @t = $t / 2;';
    const args = ['-e', `BEGIN { ${body} exit(); }`];
    const [ref, ours] = await Promise.all([run('bpftrace', args), run('tracelet', args)]);
    // The same warnings at the same places; the type names are tracelet's (uint32 for unsigned int32).
    const warnings = (stderr: string) => stderr.split('\n').filter((l) => /warning/i.test(l))
      .map((l) => l.replace(/^(stdin:\d+:\d+)(-\d+)?: (WARNING|warning)/, '$1: warning').replace(/unsigned int(\d+)/g, 'uint$1'));
    expect(warnings(ours.stderr)).toEqual(warnings(ref.stderr));
    expect(warnings(ours.stderr)).toHaveLength(5);
  }, 30_000);

  it('-l and -lv of every probe type bpftrace 0.17 lists correctly', () => {
    for (const pattern of ['iter:*', 'tracepoint:sched:sched_switch', 'usdt:/usr/lib/x86_64-linux-gnu/libc.so.6:*']) {
      for (const flag of ['-l', '-lv']) {
        const ref = spawnSync('bpftrace', [flag, pattern], { encoding: 'utf8' });
        const ours = spawnSync(BIN, [flag, pattern], { encoding: 'utf8' });
        expect({ pattern, flag, out: ours.stdout, code: ours.status }).toEqual({ pattern, flag, out: ref.stdout, code: ref.status });
      }
    }
  });

  for (const format of ['text', 'json']) {
    it(`-k and -kk report failed helpers at their source position (${format})`, async () => {
      for (const flag of ['-k', '-kk']) {
        const args = ['-f', format, flag, '-e', 'BEGIN { @x = str(1); @c[1] = count(); printf("%s\\n", str(0)); exit(); }'];
        const [ref, ours] = await Promise.all([run('bpftrace', args), run('tracelet', args)]);
        expect(ours.code).toBe(ref.code);
        if (format === 'text') expect(normalizeText(ours.stdout)).toBe(normalizeText(ref.stdout));
        else expect(normalizeJson(ours.stdout)).toEqual(normalizeJson(ref.stdout));
        if (flag === '-kk') expect(ours.stdout).toContain('probe_read_str');
      }
    }, 60_000);
  }

  it('map types from the whole program: read before the probe that assigns them; integer signs (text, json)', async () => {
    const program = 'interval:ms:100 { @x[@s[1]] = count(); @y = @t; exit(); } '
      + 'BEGIN { @s[1] = "abc"; @t = (1, "x"); @a = (uint8)1; @b = (int8)1; } END { @a = -1; @b = 1000; }';
    for (const format of ['text', 'json']) {
      const args = ['-f', format, '-e', program];
      const [ref, ours] = await Promise.all([run('bpftrace', args), run('tracelet', args)]);
      expect(ours.code).toBe(ref.code);
      expect(ours.stdout).toBe(ref.stdout);
      expect(ours.stdout).toContain('abc');
    }
  }, 60_000);

  it('join() of execve argv (capture 14), driven by the test', async () => {
    const program = 'tracepoint:syscalls:sys_enter_execve /str(args->filename) == "/bin/echo"/ { join(args->argv); join(args->argv, ","); exit(); }';
    const trigger = () => spawnSync('/bin/echo', ['one', 'two', 'three four']);
    const ref = await run('bpftrace', ['-e', program], trigger);
    const ours = await run('tracelet', ['-e', program], trigger);
    expect(ours.stdout).toBe(ref.stdout);
    expect(ours.stdout).toBe('Attaching 1 probe...\n/bin/echo one two three four\n/bin/echo,one,two,three four\n\n\n');
  }, 60_000);

  it('openat of a child with a known pid, str() and count() (text)', async () => {
    for (const format of ['text']) {
      const outputs: string[] = [];
      for (const tracer of ['bpftrace', 'tracelet'] as const) {
        const child = spawn('/bin/sh', ['-c', 'read x; exec /bin/cat /etc/hostname /etc/hostname'], { stdio: ['pipe', 'ignore', 'ignore'] });
        const program = `tracepoint:syscalls:sys_enter_openat /pid == ${child.pid}/ { @[str(args->filename), comm] = count(); `
          + 'printf("%s %s\\n", comm, str(args->filename, 6)); } '
          + `tracepoint:sched:sched_process_exit /pid == ${child.pid}/ { exit(); }`;
        const r = await run(tracer, ['-f', format, '-e', program], () => child.stdin!.end('go\n'));
        outputs.push(r.stdout);
      }
      // A user page not yet faulted in makes a read fail (an empty or missing filename) in either
      // tracer at random, for the libraries the dynamic loader opens; the file named on the
      // command line lives in argv, which exec has just written, so those lines must agree.
      const [ref, ours] = outputs.map((o) => o.split('\n').filter((l) => l.includes('/etc/h')).join('\n'));
      if (format === 'text') expect(normalizeText(ours!)).toBe(normalizeText(ref!));
      else expect(normalizeJson(ours!)).toEqual(normalizeJson(ref!));
      expect(ours).toContain('/etc/h');
    }
  }, 60_000);

  it('-o FILE: the same file, and the same standard output (0.17 writes the exit blank lines there)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-out-'));
    try {
      for (const format of ['text', 'json']) {
        const results = [];
        for (const tracer of ['bpftrace', 'tracelet'] as const) {
          const file = join(dir, `${tracer}.${format}`);
          const r = await run(tracer, ['-f', format, '-o', file, '-e', 'BEGIN { printf("x\\n"); @x = 1; @y[2] = 3; exit(); }']);
          results.push({ stdout: r.stdout, file: readFileSync(file, 'latin1') });
        }
        expect(results[1]).toEqual(results[0]);
        expect(results[1]!.file).toContain('@x');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('-c: the syscalls of the held child are the same as under bpftrace (waiting adds one read, not three)', async () => {
    const program = 'tracepoint:syscalls:sys_exit_read /pid == cpid/ { @r[args->ret > 0] = count(); } '
      + 'tracepoint:syscalls:sys_enter_read /pid == cpid/ { @c = count(); @sz = hist(args->count); }';
    for (const format of ['text', 'json']) {
      const args = ['-f', format, '-e', program, '-c', '/bin/cat /proc/sys/kernel/ostype'];
      const outputs = [await run('bpftrace', args), await run('tracelet', args)].map((r) => r.stdout);
      expect(outputs[1]).toBe(outputs[0]);
      expect(outputs[1]).toContain('@c');
    }
  }, 60_000);

  it('kernel strings that are not valid UTF-8 print as their raw bytes (text and JSON)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-bytes-'));
    // Invalid, valid two-byte and truncated three-byte UTF-8 in file names.
    const names = ['61ffe978', '61c3a96f6b', '61e282'].map((hex) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(hex, 'hex')]));
    const opener = `import os\nfor n in ${JSON.stringify(names.map((n) => n.toString('hex')))}:\n  os.close(os.open(bytes.fromhex(n), os.O_RDONLY | os.O_CREAT))`;
    try {
      for (const format of ['text', 'json']) {
        const outputs: string[] = [];
        for (const tracer of ['bpftrace', 'tracelet'] as const) {
          const child = spawn('/bin/sh', ['-c', `read x; exec /usr/bin/python3 -c '${opener}'`], { stdio: ['pipe', 'ignore', 'ignore'] });
          const program = `tracepoint:syscalls:sys_enter_openat /pid == ${child.pid}/ { $f = str(args->filename); `
            + `if (strncmp($f, "${dir}", ${dir.length}) == 0) { printf("%s|%-20s|%.16s|\\n", $f, $f, $f); } } `
            + `tracepoint:sched:sched_process_exit /pid == ${child.pid}/ { exit(); }`;
          const r = await run(tracer, ['-f', format, '-e', program], () => child.stdin!.end('go\n'));
          outputs.push(r.stdout.split('\n').filter((l) => l.includes(dir)).join('\n'));
        }
        expect(outputs[0]!.split('\n')).toHaveLength(3);
        expect(outputs[1]).toBe(outputs[0]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
