#!/usr/bin/env bash
# The real weather app and agent images for linux/arm64 under qemu: builds Dockerfile.app and
# Dockerfile.agent from a real arm64 Node 20 (scripts/arm64-node.sh), runs the app until it is
# healthy and the agent until it has polled a git server and answers `ota status`.
#   scripts/test-arm64.sh               always runs it (about 11 min more the first time: debootstrap)
#   scripts/test-arm64.sh --if-changed  only when its inputs changed since it last passed (CI)
# Needs the engine and arm64 emulation (scripts/provision.sh) and a build (tsc not needed).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=/var/cache/ota-provision

step() { printf '\n[test-arm64] %s\n' "$*" >&2; }

tarball="$(bash scripts/arm64-node.sh name | sed -n 's/^OTA_ARM64_NODE_TARBALL=//p')"
# What the emulated images are made of; the app's and agent's TypeScript is the same on every
# architecture and is covered by the other suites on x86.
inputs="$(cat Dockerfile.app Dockerfile.agent package-lock.json test/arm64/*.ts test/helpers/arm64-images.ts \
  | sha256sum | cut -c1-16)-$(basename "$tarball" .image.tar)"
stamp="$CACHE/arm64-passed"
if [ "${1:-}" = --if-changed ] && [ -f "$tarball" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  step "inputs unchanged since the last pass ($inputs): skipped; scripts/test-arm64.sh runs it anyway"
  exit 0
fi

step "arm64 Node base (scripts/arm64-node.sh)"
base="$(bash scripts/arm64-node.sh load)"
eval "$(grep -E '^OTA_ARM64_NODE_IMAGE=' <<<"$base" | sed 's/^/export /')"

step "vitest --project arm64 (emulated builds: many minutes)"
started=$SECONDS
set -a; [ -f .ota-test-env ] && . ./.ota-test-env; set +a
export OTA_ARM64_NODE_IMAGE
npx vitest run --project arm64
mkdir -p "$CACHE" && echo "$inputs" >"$stamp"
step "passed in $((SECONDS - started)) s; stamp $stamp = $inputs"
