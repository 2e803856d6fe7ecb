#!/usr/bin/env bash
# The one test command (`npm test`): installs dependencies, provisions the real test
# environment (Docker engine, base images, arm64 emulation, registry and PostgreSQL binaries),
# then lints, type-checks, builds and runs every test suite. Safe to re-run; reuses what exists.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n[test] %s\n' "$*" >&2; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

step "provisioning the test environment"
bash scripts/provision.sh
set -a
# shellcheck disable=SC1091
. ./.ota-test-env
set +a

step "lint and format check (biome)"
npx biome check .
step "type check (tsc)"
npx tsc -p tsconfig.json --noEmit
step "build"
npx tsc -p tsconfig.build.json

if [ $# -gt 0 ]; then
  step "tests (vitest $*)"
  exec npx vitest run "$@"
fi
step "unit and integration tests (vitest)"
npx vitest run --project unit --project integration
# The end-to-end suite times reading intervals across switches: it runs alone, not next to
# the integration suites competing for the same 2 cores.
step "end-to-end tests (vitest, the real compose.yaml)"
npx vitest run --project e2e
