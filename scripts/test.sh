#!/usr/bin/env bash
# The one test command (`npm test`): installs dependencies, provisions the real test
# environment (Docker engine, base images, arm64 emulation, registry and PostgreSQL binaries),
# lints, type-checks and builds, then runs the suites on the engine lanes, one engine at a time
# (scripts/engine-lane.sh stops one and starts the other):
#   classic  Docker 20.10, classic image store, docker-compose 1.29 (Debian 12's engine)
#   modern   Docker 26.1, containerd image store (as a fresh Docker 29), compose v2, buildx
# OTA_LANES says which suites run on which lane, as lane:what with what = all | engine:
#   all     unit, integration (git, databases, processes: no engine), engine, then end-to-end
#   engine  the engine suites (test/engine), then the agent's self-update end to end
#           (test/e2e/self-update.test.ts: real compose, the agent rebuilding and replacing
#           itself); an "all" entry after it then leaves that file out, so it runs once
# The default, and CI's, is "classic:engine modern:all": everything that touches the engine on
# both engines, the rest once, the compose end-to-end suite on the engine users run. In an
# "all" entry unit and integration run next to the engine suites (they do not use the engine;
# 2 cores). Then, by default (OTA_ARM64=if-changed), the real arm64 images are built and run
# under qemu (scripts/test-arm64.sh, tens of minutes) only when their inputs changed since the
# pass recorded in test/arm64/last-pass.txt; OTA_ARM64=always anyway, OTA_ARM64=0 never. With
# arguments, vitest runs just those on the engine that runs now.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n[test] %s\n' "$*" >&2; }
load_env() { set -a; . ./.ota-test-env; set +a; }   # shellcheck disable=SC1091
SUMMARY=()
timed() {   # $1 label, then the command; records how long it took for the summary
  local label="$1" t0=$SECONDS; shift
  "$@"; SUMMARY+=("$label: $((SECONDS - t0)) s")
}

# By content, not by date: a fresh checkout or worktree is newer than any installed tree (and a
# worktree's node_modules may be another checkout's, which npm ci would empty).
deps_current() {   # $1: the folder holding package-lock.json (default: here)
  local dir="${1:-.}"
  [ -f "$dir/node_modules/.package-lock.json" ] && node -e '
    const read = (f) => JSON.parse(require("fs").readFileSync(f, "utf8")).packages;
    const dir = process.argv[1];
    const want = read(dir + "/package-lock.json"), have = read(dir + "/node_modules/.package-lock.json");
    const stale = Object.entries(want).filter(([k, v]) => k && !v.optional && have[k]?.version !== v.version);
    process.exit(stale.length ? 1 : 0);' "$dir"
}
if ! deps_current; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi
# The console has its own dependencies (console/package.json), so the images' lock is untouched.
if ! deps_current console; then
  step "npm ci --prefix console"
  npm ci --prefix console --no-audit --no-fund
fi

step "provisioning the test environment"
timed "provision" bash scripts/provision.sh >/dev/null
load_env

step "lint and format check (biome), workflow syntax, type check (tsc), build"
npx biome check .
npm run --silent lint:workflows
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.build.json

if [ $# -gt 0 ]; then
  step "tests (vitest $*) on the $OTA_ENGINE_LANE engine"
  exec npx vitest run "$@"
fi

START_LANE="$OTA_ENGINE_LANE"
back_to_start() {
  local rc=$?
  # CI's machine is not used afterwards: no second switch.
  if [ -z "${CI:-}" ] && [ "$START_LANE" != none ] && [ "$(bash scripts/engine-lane.sh which 2>/dev/null)" != "OTA_ENGINE_LANE=$START_LANE" ]; then
    step "back to the $START_LANE engine"
    bash scripts/provision.sh "lane=$START_LANE" engine >/dev/null || rc=1
  fi
  printf '[test] %s\n' "${SUMMARY[@]}" >&2
  exit "$rc"
}
trap back_to_start EXIT

use_lane() {
  step "switching to the $1 engine"
  local extra=""; [ "$1" = modern ] && extra=modern   # unpack Docker 26.1 only when it is used
  timed "switch to $1" bash scripts/provision.sh "lane=$1" $extra engine images arm64 >/dev/null
  load_env
  [ "$OTA_ENGINE_LANE" = "$1" ] || { step "the $1 engine is not running ($OTA_ENGINE_LANE)"; exit 1; }
  step "$1 lane: Docker $(docker version -f '{{.Server.Version}}'), $(docker info -f '{{.Driver}} {{json .DriverStatus}}'), compose: $OTA_COMPOSE"
}

# Unit and integration next to the engine suites: their output is printed when both are done.
engine_and_rest() {   # $1 lane
  local log rc=0; log="$(mktemp)"
  npx vitest run --project unit --project integration >"$log" 2>&1 &
  local rest=$!
  timed "$1: engine" npx vitest run --project engine || rc=1
  wait "$rest" || rc=1
  step "$1 lane: unit and integration (ran next to the engine suites)"; cat "$log"; rm -f "$log"
  return "$rc"
}

# The self-update end to end builds the agent image four times: about 4 min on the classic
# lane, 12 on the modern one (its classic-builder commits are slower); it runs on the first lane.
SELF_E2E=test/e2e/self-update.test.ts
self_done=""
for entry in ${OTA_LANES:-classic:engine modern:all}; do
  lane="${entry%%:*}" what="${entry#*:}"; [ "$what" = "$entry" ] && what=all
  case "$lane:$what" in
    classic:all|classic:engine|modern:all|modern:engine) ;;
    *) step "unknown lane entry '$entry' in OTA_LANES (classic|modern, :all|:engine)"; exit 2 ;;
  esac
  use_lane "$lane"
  if [ "$what" = engine ]; then
    timed "$lane: engine" npx vitest run --project engine
    timed "$lane: self-update end-to-end ($OTA_COMPOSE)" npx vitest run --project e2e "$SELF_E2E"
    self_done=1
  else
    timed "$lane: unit, integration, engine" engine_and_rest "$lane"
    # The end-to-end suite times reading intervals across switches: it runs alone, not next
    # to other suites competing for the same 2 cores.
    timed "$lane: end-to-end ($OTA_COMPOSE)" npx vitest run --project e2e ${self_done:+--exclude "$SELF_E2E"}
  fi
done

# Last, on the last lane (the modern one by default, as users run): the real images built and
# run for linux/arm64 under qemu, when their inputs changed since the pass recorded in
# test/arm64/last-pass.txt (OTA_ARM64=if-changed, the default and CI's; tens of minutes when
# it runs), always with OTA_ARM64=always, never with OTA_ARM64=0.
if [ "${OTA_ARM64:-if-changed}" != 0 ]; then
  arm64_flag="--if-changed"; [ "${OTA_ARM64:-}" = always ] && arm64_flag=""
  timed "$OTA_ENGINE_LANE: arm64 images (${arm64_flag:-always})" bash scripts/test-arm64.sh $arm64_flag
fi
