// tracelet's version, as `tracelet --version` prints it (kept equal to package.json's; tested).
export const VERSION = '0.1.0';

/** The bpftrace release whose language and output tracelet follows. */
export const BPFTRACE_VERSION = '0.17.0';

/**
 * What --version prints: `tracelet v0.1.0`; run as `bpftrace` (a drop-in link, which bin/tracelet
 * tells by TRACELET_AS_BPFTRACE), the bpftrace it stands in for first, so that scripts that
 * check `bpftrace --version` keep working.
 */
export function versionLine(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRACELET_AS_BPFTRACE === '1' ? `bpftrace v${BPFTRACE_VERSION} (tracelet v${VERSION})` : `tracelet v${VERSION}`;
}
