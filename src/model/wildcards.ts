// bpftrace's wildcards as regular expressions, for every place that matches names by them:
// attach points (`*` and `?`), cgroup_path()'s hierarchy filter (`*` only, as bpftrace's).

/** A whole-name match of `pattern`: `*` is any run of characters, `?` (unless `question` is false) any one. */
export function wildcardRegExp(pattern: string, question = true): RegExp {
  const special = question ? /[.+^${}()|[\]\\]/g : /[.+?^${}()|[\]\\]/g;
  let source = pattern.replace(special, '\\$&').replace(/\*/g, '.*');
  if (question) source = source.replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's');
}
