// The launcher starts Node without NODE_EXTRA_CA_CERTS (src/launcher/launcher.c: Node parses every
// certificate it names as it starts, for TLS that tracelet never uses) and leaves its value in
// TRACELET_NODE_EXTRA_CA_CERTS. Put back as the CLI starts: the commands tracelet runs (-c,
// system()) see the caller's environment.
const KEPT_CERTIFICATES = 'TRACELET_NODE_EXTRA_CA_CERTS';

export function restoreStartEnvironment(): void {
  const certificates = process.env[KEPT_CERTIFICATES];
  if (certificates === undefined) return;
  delete process.env[KEPT_CERTIFICATES];
  process.env.NODE_EXTRA_CA_CERTS = certificates;
}
