#!/usr/bin/env bash
# The real weather app and agent images for linux/arm64 under qemu: builds Dockerfile.app and
# Dockerfile.agent from a real arm64 Node 20 (scripts/arm64-node.sh), runs the app until it is
# healthy and the agent until it has polled a git server and answers `ota status`.
#   scripts/test-arm64.sh               always runs it (about 11 min more the first time: debootstrap)
#   scripts/test-arm64.sh --if-changed  only when its inputs changed since the pass recorded in
#                                       test/arm64/last-pass.txt (what npm test and CI run)
# A pass rewrites test/arm64/last-pass.txt (inputs hash, date, engine, build times): commit it
# with the change that made it necessary, so CI, on a clean clone, knows the inputs passed.
# Needs the engine and arm64 emulation (scripts/provision.sh) and a build (tsc not needed).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n[test-arm64] %s\n' "$*" >&2; }

# What the emulated images are made of; the app's and agent's TypeScript is the same on every
# architecture and is covered by the other suites on x86.
inputs="$(cat Dockerfile.app Dockerfile.agent package-lock.json scripts/arm64-node.sh test/arm64/*.ts \
  test/helpers/arm64-images.ts | sha256sum | cut -c1-16)"
record=test/arm64/last-pass.txt
if [ "${1:-}" = --if-changed ]; then
  passed="$(sed -n 's/^inputs: //p' "$record" 2>/dev/null || true)"
  if [ "$passed" = "$inputs" ]; then
    step "inputs unchanged since the pass of $(sed -n 's/^date: //p' "$record") ($inputs, $record): skipped; scripts/test-arm64.sh runs it anyway"
    exit 0
  fi
  step "inputs changed ($inputs; $record has ${passed:-none}): running the emulated builds"
fi

step "arm64 Node base (scripts/arm64-node.sh)"
base="$(bash scripts/arm64-node.sh load)"
eval "$(grep -E '^OTA_ARM64_NODE_IMAGE=' <<<"$base" | sed 's/^/export /')"

step "vitest --project arm64 (emulated builds: many minutes)"
started=$SECONDS
set -a; [ -f .ota-test-env ] && . ./.ota-test-env; set +a
export OTA_ARM64_NODE_IMAGE
log="$(mktemp)"
npx vitest run --project arm64 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
{
  echo "# The last pass of scripts/test-arm64.sh (the real images for linux/arm64 under qemu)."
  echo "inputs: $inputs"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "engine: Docker $(docker version -f '{{.Server.Version}}'), $(uname -m) host, qemu-aarch64-static"
  grep -o 'arm64 builds under qemu: .*' "$log" | head -1 | sed 's/^/builds: /'
  echo "took: $((SECONDS - started)) s"
} >"$record"
rm -f "$log"
step "passed in $((SECONDS - started)) s; recorded in $record (commit it)"
