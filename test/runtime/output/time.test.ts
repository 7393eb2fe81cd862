// strftime as C's (glibc, C locale) prints it, checked against glibc itself through Python's
// time.strftime, in two time zones, over dates around year and ISO-week boundaries.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { strftime } from '../../../src/runtime/output/time.js';

const FORMATS = [
  '%a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l %m %M %n %p %P %r %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %%',
  '%Ec|%Oy|%OH|%-d|%_H|%10Y|%^a|%#b|%-j|%05d|%q|%E|%%f|%',
];
// 1970, 2009, the ends of 2020 and 2023 (ISO week 53 and week 1 of the next year), 2000-02-29, 2026-12-30.
const TIMES = [0, 86400 * 3, 1234567890, 1609459200, 1609372800, 1704067199, 1798761600, 951782400, 1767052800];

function glibc(tz: string): string[] {
  const script = `import json, time\nfor t in ${JSON.stringify(TIMES)}:\n  for f in ${JSON.stringify(FORMATS)}:\n    print(json.dumps(time.strftime(f, time.localtime(t))))`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, TZ: tz } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as string);
}

describe('strftime', () => {
  it.each(['UTC', 'America/Los_Angeles'])('prints every conversion as glibc does, TZ=%s', (tz) => {
    const expected = glibc(tz);
    const saved = process.env.TZ;
    process.env.TZ = tz;
    try {
      const ours = TIMES.flatMap((t) => FORMATS.map((f) => strftime(f, new Date(t * 1000))));
      expect(ours).toEqual(expected);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('prints %f, the microseconds, only when given them (strftime(), not time())', () => {
    const d = new Date(1234567890123);
    expect(strftime('%S.%f|%%f', d, 381577)).toBe('30.381577|%f');
    expect(strftime('%S.%f', d, 7)).toBe('30.000007');
    expect(strftime('%S.%f', d)).toBe('30.%f');
  });
});
