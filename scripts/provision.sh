#!/usr/bin/env bash
# Brings up the real test environment (Docker engine, Node base images, arm64 emulation,
# registry/Postgres binaries), reusing whatever is already there. Why each piece is made
# this way: shared/ENVIRONMENT.md. Usage:
#   scripts/provision.sh [lane=classic|modern] [tools|engine|images|arm64|modern|browser ...]
# (no steps = all). lane=: which engine the engine step leaves running (scripts/engine-lane.sh
# stops the other); without it, whatever runs stays, else the classic one starts. The modern
# step only unpacks Docker 26.1 (no switch). stdout: only KEY=VALUE lines, also written to
# $REPO/.ota-test-env.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="$REPO/.ota-test-env"
CACHE=/var/cache/ota-provision
CA=/etc/ssl/certs/ca-certificates.crt
NODE_IMG=local/node:20 BUILD_IMG=local/node-build:20 ARM_IMG=local/busybox:arm64
KEYS="OTA_NODE_IMAGE OTA_NODE_BUILD_IMAGE OTA_ARM64_BASE_IMAGE OTA_PG_BIN OTA_REGISTRY_BIN OTA_COMPOSE OTA_ENGINE_LANE"
LANE=""
APT_UPDATED=0 WORK="" OUR_POLICY_RC=0

exec 3>&1 1>&2   # everything but the final KEY=VALUE lines goes to stderr
log() { echo "[provision] $*"; }; warn() { log "WARNING: $*"; }; die() { log "ERROR: $*"; exit 1; }
now()  { echo "${EPOCHREALTIME:-$SECONDS}"; }   # macOS bash 3.2 lacks EPOCHREALTIME
have() { command -v "$1" >/dev/null 2>&1; }
is_root_apt() { [ "$(id -u)" = 0 ] && have apt-get && have dpkg; }
img_exists() { docker image inspect "$1" >/dev/null 2>&1; }
docker_ok() { have docker && timeout_ 20 docker info >/dev/null 2>&1; }
timeout_() { if have timeout; then timeout "$@"; else shift; "$@"; fi; }
# Noisy tools log to a file; on failure show the tail rather than a wall of output.
logged() { local f="/tmp/ota-provision-$1.log"; shift
  "$@" >"$f" 2>&1 || { tail -n 25 "$f"; die "failed: $* (full log: $f)"; }; }

cleanup() {
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    # debootstrap mounts /proc etc. in the target; never rm -rf through a mount.
    awk -v w="$WORK/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l || true
    rm -rf --one-file-system "$WORK"
  fi
  if [ "$OUR_POLICY_RC" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
workdir() { [ -n "$WORK" ] || WORK="$(mktemp -d /tmp/ota-provision.XXXXXX)"; }

apt_update_once() { [ "$APT_UPDATED" = 1 ] || { log "apt-get update"; logged apt-update apt-get update; APT_UPDATED=1; }; }
apt_install() {   # only what is missing; services must not be started by apt
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  apt_update_once
  if [ ! -e /usr/sbin/policy-rc.d ]; then   # stops postinst from starting postgres/dockerd
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; OUR_POLICY_RC=1
  fi
  log "apt-get install ${missing[*]}"
  logged apt-install env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

arm64_deb() { local f; for f in "$CACHE"/busybox-static_*_arm64.deb; do [ -f "$f" ] && echo "$f"; done; return 0; }
# arm64 must be a dpkg architecture before this run's one apt-get update, or a 2nd is needed.
add_arm64_arch() {
  is_root_apt && [ -z "$(arm64_deb)" ] || return 0
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
}

step_tools() {
  if ! is_root_apt; then   # e.g. a Mac with Docker Desktop: report what is missing, do not fail
    have docker || die "docker CLI missing: install Docker (Docker Desktop on a Mac)"
    local c; for c in docker-registry initdb busybox debootstrap qemu-aarch64-static; do
      have "$c" || warn "$c missing and not installable here (not root/no apt): tests needing it will skip"
    done; return 0
  fi
  if [[ " $STEPS " == *" arm64 "* ]]; then add_arm64_arch; fi
  apt_install docker.io docker-compose docker-registry busybox-static qemu-user-static \
    binfmt-support debootstrap postgresql faketime
  # Tests run their own initdb clusters; the Debian system cluster must stay off.
  if have pg_lsclusters; then
    local ver name _p status _rest sc
    while read -r ver name _p status _rest; do
      if [ "$status" = online ]; then log "stopping system cluster $ver/$name"; pg_ctlcluster "$ver" "$name" stop; fi
      sc="/etc/postgresql/$ver/$name/start.conf"   # and keep it from starting at boot
      if [ -f "$sc" ] && ! grep -qx manual "$sc"; then echo manual >"$sc"; fi
    done < <(pg_lsclusters -h 2>/dev/null)
  fi
  return 0
}

step_engine() {
  if [ -n "$LANE" ]; then bash "$REPO/scripts/engine-lane.sh" use "$LANE" >/dev/null 3>&-; return 0; fi
  if docker_ok; then log "docker engine already running"; return 0; fi
  [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ] && have dockerd \
    || die "no Docker engine reachable (start Docker Desktop, or run '$0 tools engine' as root)"
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (log: /tmp/ota-dockerd.log)"
    # setsid+nohup: must outlive this script and its shell. Close fds 3 (our real stdout)
    # and 9 (the lock), or a caller reading our output / waiting on the lock would hang.
    setsid nohup dockerd >>/tmp/ota-dockerd.log 2>&1 </dev/null 3>&- 9>&- &
  fi
  local i; for i in $(seq 60); do docker_ok && { log "engine is up"; return 0; }; sleep 1; done
  tail -n 30 /tmp/ota-dockerd.log || true
  die "dockerd did not come up within 60 s"
}

step_modern() {   # Docker 26.1 + containerd + compose v2 + buildx from Debian 13, unpacked
  [ "$(uname -s)" = Linux ] && is_root_apt || { warn "the modern lane needs Linux as root: skipped"; return 0; }
  bash "$REPO/scripts/engine-lane.sh" install >/dev/null 3>&-
}

step_browser() {   # Debian's Chromium, for the console's browser tests (playwright-core drives it)
  if [ -x /usr/bin/chromium ]; then return 0; fi
  is_root_apt || { warn "/usr/bin/chromium missing and not installable here (not root/no apt): the console's browser tests will fail"; return 0; }
  # Not fatal: on an apt host without the package (Ubuntu ships it as a snap) the rest of the
  # environment is still set up, and the browser tests say what is missing.
  apt_install chromium || warn "could not install Debian's chromium: the console's browser tests will fail"
}

need_docker() { docker_ok || die "no Docker engine: run '$0 engine' first"; }

host_node_label() { /usr/bin/node --version 2>/dev/null || echo none; }
# A stand-in is stale if the host Node it was copied from has changed.
standin_ok() { img_exists "$1" && [ "$(docker image inspect -f '{{index .Config.Labels "ota.node"}}' "$1" 2>/dev/null)" = "$(host_node_label)" ] \
  && { [ "$1" != "$BUILD_IMG" ] || docker run --rm "$1" sh -c 'command -v git && command -v ssh-keygen' >/dev/null 2>&1; }; }
import_rootfs() {   # $1 rootfs dir, $2 tag, extra --change args follow
  local dir="$1" tag="$2"; shift 2
  tar --numeric-owner -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c "ENV NODE_EXTRA_CA_CERTS=$CA" -c "ENV NPM_CONFIG_CAFILE=$CA" \
    -c "LABEL ota.node=$(host_node_label)" -c 'CMD ["node"]' "$@" - "$tag" >/dev/null
}

copy_host_node() {   # $1 rootfs: both stand-ins carry the host's own node, npm and CA bundle
  local r="$1"; mkdir -p "$r/usr/bin" "$r/usr/lib" "$r$(dirname "$CA")"
  cp -L /usr/bin/node "$r/usr/bin/node"; rm -rf "$r/usr/lib/node_modules"; cp -a /usr/lib/node_modules "$r/usr/lib/"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"
  cp -L "$CA" "$r$CA"   # the intercepting proxy's CA lives only in the host bundle
}

build_node_image() {   # host node + its libs + busybox: seconds, no network
  have busybox && [ -x /usr/bin/node ] || die "need /usr/bin/node and busybox-static to build $NODE_IMG"
  workdir; local r="$WORK/node" lib a
  mkdir -p "$r"/{bin,etc,root,home/node,tmp}
  copy_host_node "$r"
  for lib in $(ldd /usr/bin/node | awk '/=>/ {print $3} /^[[:space:]]*\// {print $1}'); do
    mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
  done
  cp -L "$(command -v busybox)" "$r/bin/busybox"
  for a in $(busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  ln -s /bin/busybox "$r/usr/bin/env"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$r/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
  chown 1000:1000 "$r/home/node"; chmod 1777 "$r/tmp"
  import_rootfs "$r" "$NODE_IMG"
}

build_build_image() {   # Debian + compiler + host node, for native addons (better-sqlite3)
  have debootstrap || die "need debootstrap to build $BUILD_IMG"
  # git and ssh-keygen: the agent image is built on this base here (it follows git tags and
  # verifies SSH-signed tags); the cache file name carries the package list.
  local include=python3,make,g++,ca-certificates,git,openssh-client
  workdir; local r="$WORK/build" tarball="$CACHE/bookworm-minbase-${include//,/-}.tar" mirror
  mkdir -p "$r" "$CACHE"
  if [ -f "$tarball" ]; then
    log "reusing cached debootstrap rootfs $tarball"
    tar --numeric-owner -C "$r" -xf "$tarball"
  else
    mirror="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
    mirror="${mirror:-http://deb.debian.org/debian}"
    log "debootstrap bookworm from $mirror (about a minute)"
    logged debootstrap debootstrap --variant=minbase --include="$include" bookworm "$r" "$mirror"
    chroot "$r" useradd -u 1000 -U -m -s /bin/bash node
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
    tar --numeric-owner -C "$r" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  fi
  copy_host_node "$r"; rm -rf "$r/usr/include/node"; cp -a /usr/include/node "$r/usr/include/"
  # nodedir: node-gyp would otherwise try to download headers, which fails here.
  import_rootfs "$r" "$BUILD_IMG" -c 'ENV npm_config_nodedir=/usr'
}

step_images() {
  need_docker
  # Real images first (Docker Desktop). Stand-ins are checked before the registry so a re-run
  # here does not wait on one it cannot reach; only the probe is time-limited, since
  # pulling ~1 GB on a slow line can take longer than any short timeout.
  local run=node:20-bookworm-slim build=node:20-bookworm img v
  if img_exists "$run" && img_exists "$build"; then
    log "using real images $run, $build"
  elif standin_ok "$NODE_IMG" && standin_ok "$BUILD_IMG"; then
    log "reusing stand-ins $NODE_IMG, $BUILD_IMG"; run="$NODE_IMG" build="$BUILD_IMG"
  elif log "probing the registry for $run" && timeout_ 60 docker manifest inspect "$run" >/dev/null 2>&1; then
    log "pulling $build, $run"; docker pull -q "$build" && docker pull -q "$run" || die "docker pull failed"
  else
    log "no registry: building local stand-ins"
    [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ] || die "stand-in images need Linux as root"
    standin_ok "$NODE_IMG"  || { log "building $NODE_IMG"; build_node_image; }
    standin_ok "$BUILD_IMG" || { log "building $BUILD_IMG"; build_build_image; }
    run="$NODE_IMG" build="$BUILD_IMG"
  fi
  for img in "$run" "$build"; do
    v="$(docker run --rm "$img" node -e 'console.log(process.version)')" || die "$img cannot run node"
    log "$img runs node $v"
  done
  OTA_NODE_IMAGE="$run" OTA_NODE_BUILD_IMAGE="$build"
}

enable_emulation() {   # returns non-zero (not fatal) when it cannot be done
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 && return 0
  [ "$(uname -m)" = aarch64 ] && return 0
  is_root_apt || return 1
  apt_install qemu-user-static binfmt-support
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || return 1
  update-binfmts --enable qemu-aarch64 || return 1
}

build_arm64_image() {   # docker import cannot mark an image arm64; docker load of a hand-made tarball can
  local deb; deb="$(arm64_deb)"
  if [ -z "$deb" ]; then
    add_arm64_arch; apt_update_once; mkdir -p "$CACHE"
    (cd "$CACHE" && logged apt-download apt-get download busybox-static:arm64)
    deb="$(arm64_deb)"; [ -n "$deb" ] || die "could not download busybox-static:arm64"
  fi
  workdir; local d="$WORK/arm64" a diff cfg cid
  mkdir -p "$d/x" "$d/root/bin" "$d/root/etc" "$d/root/tmp" "$d/img"
  dpkg-deb -x "$deb" "$d/x"; cp "$d/x/bin/busybox" "$d/root/bin/busybox"
  for a in $(busybox --list); do [ -e "$d/root/bin/$a" ] || ln -s busybox "$d/root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$d/root/etc/passwd"; chmod 1777 "$d/root/tmp"
  tar --numeric-owner --owner=0 --group=0 -C "$d/root" -cf "$d/img/layer.tar" .
  diff="$(sha256sum "$d/img/layer.tar" | cut -d' ' -f1)"
  cfg="{\"architecture\":\"arm64\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diff\"]}}"
  cid="$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)"; printf '%s' "$cfg" >"$d/img/$cid.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cid" "$ARM_IMG" >"$d/img/manifest.json"
  tar -C "$d/img" -c . | docker load >/dev/null
}

step_arm64() {
  need_docker; OTA_ARM64_BASE_IMAGE=""
  img_exists "$ARM_IMG" || add_arm64_arch   # before enable_emulation's possible apt-get update
  # Without root, emulation may still work (Docker Desktop) if the image already exists.
  enable_emulation || warn "cannot enable arm64 emulation here (needs root + apt on Linux)"
  if ! img_exists "$ARM_IMG"; then
    is_root_apt || { warn "$ARM_IMG missing, cannot build it here: OTA_ARM64_BASE_IMAGE left empty"; return 0; }
    log "building $ARM_IMG"; build_arm64_image
  fi
  [ "$(docker image inspect -f '{{.Architecture}}' "$ARM_IMG")" = arm64 ] || die "$ARM_IMG is not marked arm64"
  local m; m="$(docker run --rm --platform linux/arm64 "$ARM_IMG" uname -m 2>&1 || true)"
  if [ "$m" != aarch64 ]; then
    is_root_apt && die "$ARM_IMG does not run emulated: $m"
    warn "arm64 containers do not run here ($m): OTA_ARM64_BASE_IMAGE left empty"; return 0
  fi
  log "$ARM_IMG runs emulated ($m)"; OTA_ARM64_BASE_IMAGE="$ARM_IMG"
}

detect_binaries() {   # cheap, so always recomputed
  local d; OTA_PG_BIN=""
  # Debian keeps the server binaries off PATH (newest version first); Homebrew puts them on it.
  for d in $( (ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true) | sort -V -r) \
           "$(dirname "$(command -v initdb 2>/dev/null || echo /none/x)")"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then OTA_PG_BIN="$d"; break; fi
  done
  [ -n "$OTA_PG_BIN" ] || warn "PostgreSQL server binaries not found: OTA_PG_BIN empty"
  OTA_REGISTRY_BIN="$(command -v docker-registry || command -v registry || true)"
  [ -n "$OTA_REGISTRY_BIN" ] || warn "docker-registry not found: OTA_REGISTRY_BIN empty"
  if docker compose version >/dev/null 2>&1; then OTA_COMPOSE="docker compose"
  elif have docker-compose; then OTA_COMPOSE="docker-compose"
  else OTA_COMPOSE=""; warn "neither 'docker compose' nor docker-compose works"; fi
  OTA_ENGINE_LANE="$(bash "$REPO/scripts/engine-lane.sh" which 2>/dev/null 3>&- | sed -n 's/^OTA_ENGINE_LANE=//p')"
}

# ---- main ----
STEPS=""
for s in "$@"; do case "$s" in
  lane=classic|lane=modern) LANE="${s#lane=}" ;;
  tools|engine|images|arm64|modern|browser) STEPS+="$s " ;;
  *) die "unknown argument '$s' (lane=classic|lane=modern, steps: tools engine images arm64 modern browser)" ;;
esac; done
STEPS="${STEPS:-tools engine images arm64 browser}"   # the modern engine is unpacked on demand (lane=modern)
# Serialise concurrent runs (parallel CI jobs) where flock exists.
if have flock; then exec 9>"/tmp/ota-provision.$(id -u).lock"; flock 9; fi
for k in $KEYS; do printf -v "$k" '%s' ""; done
# Steps not run this time keep their previous values.
[ -f "$ENV_FILE" ] && while IFS='=' read -r k v; do
  v="${v#\"}"; v="${v%\"}"
  if [[ " $KEYS " == *" $k "* ]]; then printf -v "$k" '%s' "$v"; fi
done <"$ENV_FILE"
for s in tools modern engine images arm64 browser; do   # fixed order: tools before engine before images
  [[ " $STEPS " == *" $s "* ]] || continue
  t0="$(now)"; log "step $s ..."
  "step_$s"
  log "step $s done in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')s"
done
detect_binaries
# A value with a space (OTA_COMPOSE="docker compose") is double-quoted, so that
# `set -a; . ./.ota-test-env` assigns it instead of running `compose`.
out=""; for k in $KEYS; do
  if [[ "${!k}" == *" "* ]]; then out+="$k=\"${!k}\""$'\n'; else out+="$k=${!k}"$'\n'; fi
done
printf '%s' "$out" >"$ENV_FILE"
printf '%s' "$out" >&3
