// cgroup_path(): a cgroup id named by its path in each mounted cgroup hierarchy, as bpftrace 0.17
// names it when the value is printed: `unified:/user.slice,memory:/...` — each hierarchy (cgroup2
// is "unified", a v1 one the name of its mount point) that the filter's wildcards match and that
// has a directory with that id (its inode), joined by commas, unified first, then by name.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { wildcardRegExp } from '../model/wildcards.js';

interface Hierarchy {
  readonly name: string;
  readonly root: string;
}

/** The mounted cgroup hierarchies, from /proc/mounts, in mount order. */
function hierarchies(mounts: string): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of mounts.split('\n')) {
    const [device, root] = line.split(' ');
    if ((device !== 'cgroup' && device !== 'cgroup2') || !root) continue;
    out.push({ name: device === 'cgroup2' ? 'unified' : root.slice(root.lastIndexOf('/') + 1), root });
  }
  return out;
}

/** Whether `name` matches `filter`, where `*` is any run of characters (bpftrace's wildcards). */
export function wildcardMatch(filter: string, name: string): boolean {
  return wildcardRegExp(filter, false).test(name);
}

/** Resolves cgroup ids to paths; remembers each one found while its directory keeps that id. */
export class CgroupPaths {
  private readonly found = new Map<string, string>();

  constructor(private readonly readMounts: () => string = () => readFileSync('/proc/mounts', 'utf8')) {}

  /** The text of cgroup_path(id, filter). */
  text(id: bigint, filter: string): string {
    let mounts: string;
    try {
      mounts = this.readMounts();
    } catch {
      return '';
    }
    const paths = hierarchies(mounts)
      .filter((h) => wildcardMatch(filter, h.name))
      .map((h) => ({ name: h.name, path: this.pathIn(h.root, id) }))
      .filter((p) => p.path !== undefined);
    paths.sort((a, b) => (a.name === 'unified' ? -1 : b.name === 'unified' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return paths.map((p) => `${p.name}:${p.path}`).join(',');
  }

  /** The path (from the hierarchy's root, `/` for the root itself) of the directory with inode `id`. */
  private pathIn(root: string, id: bigint): string | undefined {
    const key = `${id}@${root}`;
    const known = this.found.get(key);
    if (known !== undefined && inode(join(root, known)) === id) return known;
    if (inode(root) === id) {
      this.found.set(key, '/');
      return '/';
    }
    const pending = [root];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const path = join(dir, e.name);
        if (inode(path) === id) {
          const relative = path.slice(root.length);
          this.found.set(key, relative);
          return relative;
        }
        pending.push(path);
      }
    }
    return undefined;
  }
}

function inode(path: string): bigint | undefined {
  try {
    return statSync(path, { bigint: true }).ino;
  } catch {
    return undefined;
  }
}
