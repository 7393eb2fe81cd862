// The launcher starts Node without the variables meant for the user's Node programs that would
// change tracelet's own Node (src/launcher/launcher.c: NODE_OPTIONS, whose V8 flags make Node
// refuse the start-up snapshot; NODE_EXTRA_CA_CERTS, whose certificates Node parses as it starts,
// for TLS tracelet never uses; NODE_DEBUG, Node's debug lines on tracelet's stderr) and leaves
// each in TRACELET_<NAME>. Put back as the CLI starts: the commands tracelet runs (-c, system())
// see the caller's environment.
const KEPT_FROM_NODE = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'NODE_DEBUG'] as const;

export function restoreStartEnvironment(): void {
  for (const name of KEPT_FROM_NODE) {
    const value = process.env[`TRACELET_${name}`];
    if (value === undefined) continue;
    delete process.env[`TRACELET_${name}`];
    process.env[name] = value;
  }
}
