// The launcher starts Node without the variables meant for the user's Node programs that would
// change tracelet's own Node (src/launcher/launcher.c names them: NODE_OPTIONS, whose V8 flags make
// Node refuse the start-up snapshot; NODE_EXTRA_CA_CERTS, whose certificates Node parses as it
// starts, for TLS tracelet never uses; NODE_DEBUG, Node's debug lines on tracelet's stderr) and
// leaves each as TRACELET_<NAME>. Put back as the CLI starts: the commands tracelet runs (-c,
// system()) see the caller's environment.
const KEPT = 'TRACELET_NODE_';

export function restoreStartEnvironment(): void {
  for (const [kept, value] of Object.entries(process.env)) {
    if (!kept.startsWith(KEPT) || value === undefined) continue;
    delete process.env[kept];
    process.env[kept.slice('TRACELET_'.length)] = value;
  }
}
