// cgroup_path()'s text (src/runtime/cgroups.ts), over directories standing in for cgroup
// hierarchies: a cgroup's id is its directory's inode.
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CgroupPaths, wildcardMatch } from '../../src/runtime/cgroups.js';

let dir: string;
let mounts: string;
const id = (path: string) => statSync(join(dir, path), { bigint: true }).ino;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-cgroups-'));
  for (const d of ['v2/system.slice/cron.service', 'v2/user.slice', 'memory/docker', 'pids']) mkdirSync(join(dir, d), { recursive: true });
  mounts = [
    `tmpfs ${dir} tmpfs rw 0 0`,
    `cgroup ${dir}/pids cgroup rw,pids 0 0`,
    `cgroup ${dir}/memory cgroup rw,memory 0 0`,
    `cgroup2 ${dir}/v2 cgroup2 rw 0 0`,
    'proc /proc proc rw 0 0',
  ].join('\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cgroup_path text', () => {
  it('names the id in each hierarchy that has it: cgroup2 as unified, first; v1 ones by mount point name', () => {
    const paths = new CgroupPaths(() => mounts);
    expect(paths.text(id('v2/system.slice/cron.service'), '*')).toBe('unified:/system.slice/cron.service');
    expect(paths.text(id('memory/docker'), '*')).toBe('memory:/docker');
    expect(paths.text(id('v2'), 'unified')).toBe('unified:/');
    // Found again after it was remembered; not found: nothing.
    expect(paths.text(id('v2/system.slice/cron.service'), 'u*')).toBe('unified:/system.slice/cron.service');
    expect(paths.text(id('v2/user.slice'), 'memory')).toBe('');
  });

  it('lists unified first, then the others by name, whatever their mount order', () => {
    // One directory mounted as three hierarchies (through links named as each): the id is in all.
    symlinkSync(join(dir, 'memory'), join(dir, 'zswap'));
    symlinkSync(join(dir, 'memory'), join(dir, 'blkio'));
    const three = new CgroupPaths(() => `cgroup ${dir}/zswap cgroup rw 0 0\ncgroup ${dir}/memory cgroup rw 0 0\n`
      + `cgroup ${dir}/blkio cgroup rw 0 0\ncgroup2 ${dir}/memory cgroup2 rw 0 0`);
    expect(three.text(id('memory/docker'), '*')).toBe('unified:/docker,blkio:/docker,memory:/docker,zswap:/docker');
  });

  it('matches names with wildcards', () => {
    expect(['unified', 'memory', 'pids', 'cpuacct'].filter((n) => wildcardMatch('*u*', n))).toEqual(['unified', 'cpuacct']);
    expect(wildcardMatch('m*y', 'memory')).toBe(true);
    expect(wildcardMatch('mem', 'memory')).toBe(false);
    expect(wildcardMatch('a.b', 'axb')).toBe(false);
  });
});
