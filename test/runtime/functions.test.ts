// Each function, builtin and aggregation on the real kernel, through the CLI.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

/** Runs a BEGIN program; returns stdout without the `Attaching` line and the exit separator. */
function begin(body: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const r = runTracelet([...args, '-e', `BEGIN { ${body} exit(); }`], { env });
  return { ...r, out: r.stdout.replace(/^Attaching 1 probe\.\.\.\n/, '') };
}

const outDir = mkdtempSync(join(tmpdir(), 'tl-funcs-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('functions and builtins', () => {
  it('ksym, kaddr, usym of an unmapped address', () => {
    const r = begin('print(ksym(kaddr("vfs_read"))); print(ksym(kaddr("vfs_read") + 5)); print(usym(1));');
    expect(r.out).toBe('vfs_read\nvfs_read\n0x1\n\n\n');
  });

  it('kstack and ustack, with depth and modes', () => {
    const r = begin('@k[kstack(2)] = count(); @kp[kstack(perf, 1)] = count(); @kr[kstack(raw, 1)] = count(); @u[ustack(3)] = count();');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/@k\[\n {4}\S+\+\d+\n {4}\S+\+\d+\n\]: 1/);
    expect(r.stdout).toMatch(/@kp\[\n\t[0-9a-f]{16} \S+\+\d+\n\]: 1/);
    expect(r.stdout).toMatch(/@kr\[\n[0-9a-f]{16}\n\]: 1/);
    expect(r.stdout).toMatch(/@u\[\n( {4}\S.*\n){1,3}\]: 1/);
  });

  it('username, uid, gid, pid, tid, cpu, numaid, cgroup, nsecs, elapsed, rand, curtask, has_cpid', () => {
    const r = begin('printf("%s %d %d %d %d\\n", username, uid, gid, pid == tid, cpu < 4096); '
      + 'printf("%d %d %d %d %d\\n", numaid >= 0, cgroup > 0, nsecs > 0, elapsed < 10000000000, curtask != 0); @r = rand; print(has_cpid);');
    expect(r.out.split('\n').slice(0, 3)).toEqual(['root 0 0 1 1', '1 1 1 1 1', '0']);
  });

  it('buf with %r, %rx, %rh', () => {
    const r = begin('$b = buf("ab\\x01\\xff", 4); printf("[%r] [%rx] [%rh]\\n", $b, $b, $b); print(buf("abc", 2));');
    expect(r.out).toBe('[ab\\x01\\xff] [\\x61\\x62\\x01\\xff] [61 62 01 ff]\nab\n\n\n');
  });

  it('strftime %f: the boot time is measured to the microsecond, as bpftrace (not Date.now(), a millisecond)', () => {
    const micros = () => Number(begin('printf("%s\\n", strftime("%f", 1234567890));').out.split('\n')[0]);
    const [a, b, c] = [micros(), micros(), micros()];
    expect(Math.max(a, b, c) - Math.min(a, b, c)).toBeLessThanOrEqual(2);
  });

  it('strftime, ntop, pton, strncmp, strcontains, sizeof, cgroupid', () => {
    const ino = statSync('/sys/fs/cgroup/unified', { bigint: true }).ino;
    const r = begin('print(strftime("%Y", nsecs)); print(ntop(0x0100007f)); print(ntop(pton("fe80::1"))); print(pton("1.2.3.4")); '
      + 'print(strncmp("abc", "abd", 2)); print(strncmp("abc", "abd", 3)); print(strcontains("hello world", "o w")); '
      + 'print(strcontains("hello", "xyz")); print(sizeof(int32)); print(cgroupid("/sys/fs/cgroup/unified"));');
    expect(r.out).toBe(`${new Date().getFullYear()}\n127.0.0.1\nfe80::1\n[1,2,3,4]\n0\n1\n1\n0\n4\n${ino}\n\n\n`);
  });

  it('cat prints a file; a missing file is an error on stderr', () => {
    const r = begin('cat("/proc/sys/kernel/ostype"); cat("/nonexistent");');
    expect(r.out).toBe('Linux\n\n\n');
    expect(r.stderr).toBe("ERROR: failed to open file '/nonexistent': No such file or directory\n");
  });

  it('system needs --unsafe', () => {
    const refused = begin('system("echo hi");');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('system() is an unsafe function being used in safe mode');
    const r = begin('system("echo hi %d", 5);', ['--unsafe']);
    expect(r.out).toBe('hi 5\n\n\n');
    expect(runTracelet(['-f', 'json', '--unsafe', '-e', 'BEGIN { system("echo hi"); exit(); }']).stdout)
      .toContain('{"type": "syscall", "data": "hi\\n"}');
  });

  it('signal, override, path and reg are refused where bpftrace refuses them', () => {
    expect(begin('signal("SIGUSR1");').stderr).toContain('signal() is an unsafe function');
    expect(begin('signal("SIGUSR1");', ['--unsafe']).stderr).toContain('signal can not be used with "BEGIN" probes');
    expect(begin('override(1);', ['--unsafe']).stderr).toContain('override can only be used with kprobes');
    expect(begin('print(path(0));').stderr).toContain('The path function can only be used with');
    expect(begin('print(reg("ip"));').stderr).toContain('reg can not be used with "BEGIN" probes');
  });

  it('min and max as bpftrace 0.17 (a missing entry reads as 0)', () => {
    const r = begin('@mx[1] = max(10); @mx[2] = max(-7); @mn[1] = min(-3); @mn[2] = min(5); @mn[2] = min(9);');
    expect(r.stdout).toContain('@mn[1]: -3\n@mn[2]: 5\n@mx[1]: 10\n');
    expect(r.stdout).not.toContain('@mx[2]');
  });

  it('BPFTRACE_MAP_KEYS_MAX limits maps and a full map is reported by name, with its own limit', () => {
    // @n (one slot) and @h (5 keys × 66 buckets) never fill: only @s and @k are named.
    const r = begin('$i = 0; while ($i < 8) { @s[$i] = 1; @h[$i] = hist($i); $i++; } $i = 0; while ($i < 400) { @k[$i] = hist(1); $i++; } @n = count();',
      [], { BPFTRACE_MAP_KEYS_MAX: '5' });
    expect(r.stdout.match(/^@s\[\d\]: 1$/gm)).toHaveLength(5);
    expect(r.stderr).toBe('WARNING: Failed to map_update_elem 70 times: map @k is full (330 entries, BPFTRACE_MAP_KEYS_MAX 5 × 66 buckets)\n'
      + 'WARNING: Failed to map_update_elem 3 times: map @s is full (5 entries, BPFTRACE_MAP_KEYS_MAX)\n');
  });

  it('a map filled by a tracepoint is named with its real limit, not that of a key-less map beside it', () => {
    // dd makes two syscalls per byte: far more than 4096 distinct nsecs keys.
    const r = runTracelet(['-e', 'tracepoint:raw_syscalls:sys_enter /pid == cpid/ { @s[nsecs] = 1; @n = count(); }',
      '-c', 'dd if=/dev/zero of=/dev/null bs=1 count=5000 status=none']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^@s\[\d+\]: 1$/gm)).toHaveLength(4096);
    const warnings = r.stderr.split('\n').filter((l) => l !== '');
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) expect(w).toMatch(/^WARNING: Failed to map_update_elem \d+ times: map @s is full \(4096 entries, BPFTRACE_MAP_KEYS_MAX\)$/);
  });

  // Large count()/sum() maps go out at exit as bytes (Formatter.writeMap), straight from the
  // dump: in order with the text around them, whatever the output mode. (Their bytes are checked
  // against the general path in test/runtime/output/typed-dump.test.ts; ties come in the order of
  // the kernel's dump, which differs from run to run, so here values are checked sorted.)
  describe('a large map printed at exit', () => {
    const program = 'BEGIN { printf("before\\n"); $i = 0; while ($i < 2000) { @a[$i * 7919 % 10007, "k\\"q"] = sum($i % 3 - 1); $i++; } @z = 5; exit(); }';
    const expected = Array.from({ length: 2000 }, (_, i) => ({ key: (i * 7919) % 10007, value: (i % 3) - 1 }));
    const checkText = (text: string) => {
      const lines = text.split('\n');
      const rows = lines.slice(0, 2000).map((l) => /^@a\[(\d+), k"q\]: (-?\d+)$/.exec(l)!).map((m) => ({ key: Number(m[1]), value: Number(m[2]) }));
      expect(rows.map((r) => r.value)).toEqual(expected.map((r) => r.value).sort((x, y) => x - y));
      expect(rows.sort((x, y) => x.key - y.key)).toEqual([...expected].sort((x, y) => x.key - y.key));
      expect(lines.slice(2000).join('\n')).toBe('@z: 5\n');
    };

    it('text', () => {
      const r = runTracelet(['-e', program]);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith('Attaching 1 probe...\nbefore\n\n\n')).toBe(true);
      checkText(r.stdout.slice('Attaching 1 probe...\nbefore\n\n\n'.length));
    });

    it('-B full -o FILE', () => {
      const file = join(outDir, 'full.txt');
      const r = runTracelet(['-B', 'full', '-o', file, '-e', program]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('\n\n');
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith('Attaching 1 probe...\nbefore\n')).toBe(true);
      checkText(text.slice('Attaching 1 probe...\nbefore\n'.length));
    });

    it('-f json', () => {
      const r = runTracelet(['-f', 'json', '-e', program]);
      expect(r.code).toBe(0);
      const head = '{"type": "attached_probes", "data": {"probes": 1}}\n{"type": "printf", "data": "before\\n"}\n\n\n';
      const tail = '\n{"type": "map", "data": {"@z": 5}}\n';
      expect(r.stdout.startsWith(head)).toBe(true);
      expect(r.stdout.endsWith(tail)).toBe(true);
      const map = JSON.parse(r.stdout.slice(head.length, -tail.length)) as { data: { '@a': Record<string, number> } };
      const entries = Object.entries(map.data['@a']);
      expect(entries.map(([, v]) => v)).toEqual(expected.map((r) => r.value).sort((x, y) => x - y));
      expect(Object.fromEntries(entries)).toEqual(Object.fromEntries(expected.map((r) => [`${r.key},k"q`, r.value])));
    });
  });

  it('-o FILE and -B full', () => {
    const file = join(outDir, 'out.txt');
    const r = runTracelet(['-B', 'full', '-o', file, '-e', 'BEGIN { printf("x\\n"); @a = 1; exit(); }']);
    // As bpftrace 0.17: the blank lines before the exit maps go to standard output.
    expect(r.stdout).toBe('\n\n');
    expect(readFileSync(file, 'utf8')).toBe('Attaching 1 probe...\nx\n@a: 1\n');
  });
});
