#!/usr/bin/env bash
# Sets everything up (as scripts/setup.sh, plus bpftrace, the reference the conformance tests
# compare against) and runs the whole test suite on the real kernel. Ends with `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
TRACELET_WITH_BPFTRACE=1 bash scripts/setup.sh || exit 1
report=$(mktemp)
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || { echo "0 passed, 1 failed"; status=1; }
rm -f "$report"
exit $status
