#!/usr/bin/env bash
# A real arm64 Node 20 base (Debian 13's arm64 nodejs, a compiler, git, ssh-keygen) for
# building Dockerfile.app and Dockerfile.agent for linux/arm64 under qemu. Why it is made this
# way: shared/ENVIRONMENT.md, "An arm64 Node base". Usage:
#   scripts/arm64-node.sh tarball   debootstrap (about 11 min, once) and cache an image tarball
#   scripts/arm64-node.sh load      the above, then docker load it if the engine lacks it
#   scripts/arm64-node.sh name      only print where the tarball is (or would be) cached
# stdout: only KEY=VALUE lines (OTA_ARM64_NODE_IMAGE, OTA_ARM64_NODE_TARBALL).
set -euo pipefail

CACHE=/var/cache/ota-provision
CA=/etc/ssl/certs/ca-certificates.crt
IMG=local/node:20-arm64
INCLUDE=nodejs,python3,make,g++,ca-certificates,git,openssh-client
# The file name carries what is inside: a changed package list or host npm makes a new one.
KEY="$(printf '%s %s' "$INCLUDE" "$(cat /usr/lib/node_modules/npm/package.json 2>/dev/null | sha256sum)" | sha256sum | cut -c1-12)"
TARBALL="$CACHE/arm64-node20-trixie-$KEY.image.tar"
WORK=""

exec 3>&1 1>&2
log() { echo "[arm64-node] $*"; }; die() { log "ERROR: $*"; exit 1; }
cleanup() {
  [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
  # debootstrap mounts /proc etc. in the target; never rm -rf through a mount.
  awk -v w="$WORK/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l || true
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

make_tarball() {
  [ -f "$TARBALL" ] && { log "reusing $TARBALL"; return 0; }
  [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null || die "needs root and debootstrap"
  grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || die "arm64 emulation is off: run scripts/provision.sh arm64"
  local mirror r d t0=$SECONDS
  mirror="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  WORK="$(mktemp -d /tmp/ota-arm64.XXXXXX)"; r="$WORK/root"; d="$WORK/img"; mkdir -p "$r" "$d" "$CACHE"
  log "debootstrap --arch=arm64 trixie from ${mirror:=http://deb.debian.org/debian} (about 11 min, emulated)"
  debootstrap --arch=arm64 --variant=minbase --include="$INCLUDE" trixie "$r" "$mirror" \
    >/tmp/ota-arm64-debootstrap.log 2>&1 || { tail -n 25 /tmp/ota-arm64-debootstrap.log; die "debootstrap failed"; }
  awk -v w="$r/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l || true
  chroot "$r" useradd -u 1000 -U -m -s /bin/bash node
  # npm is plain JavaScript (debootstrap cannot resolve Debian's npm); the headers let
  # node-gyp compile better-sqlite3 without downloading them; the CA bundle is the proxy's.
  rm -rf "$r/usr/lib/node_modules/npm" "$r/usr/include/node"; mkdir -p "$r/usr/lib/node_modules"
  cp -a /usr/lib/node_modules/npm "$r/usr/lib/node_modules/"; cp -a /usr/include/node "$r/usr/include/"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"; ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"
  cp -L "$CA" "$r$CA"
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
  log "$(chroot "$r" node -e 'console.log(process.arch, process.version)')"
  # docker import cannot mark an image arm64 on 20.10; docker load of a hand-made tarball can.
  tar --numeric-owner -C "$r" -cf "$d/layer.tar" .
  local diff cfg cid env
  diff="$(sha256sum "$d/layer.tar" | cut -d' ' -f1)"
  env="\"PATH=/usr/local/bin:/usr/bin:/bin\",\"NODE_EXTRA_CA_CERTS=$CA\",\"NPM_CONFIG_CAFILE=$CA\",\"npm_config_nodedir=/usr\""
  cfg="{\"architecture\":\"arm64\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\",\"config\":{\"Env\":[$env],\"Cmd\":[\"node\"],\"Labels\":{\"ota.arm64-node\":\"$KEY\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diff\"]}}"
  cid="$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)"; printf '%s' "$cfg" >"$d/$cid.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cid" "$IMG" >"$d/manifest.json"
  tar -C "$d" -cf "$TARBALL.tmp" manifest.json "$cid.json" layer.tar && mv "$TARBALL.tmp" "$TARBALL"
  log "cached $TARBALL ($(du -m "$TARBALL" | cut -f1) MB) in $((SECONDS - t0)) s"
}

load_image() {
  docker info >/dev/null 2>&1 || die "no Docker engine answers"
  if [ "$(docker image inspect -f '{{index .Config.Labels "ota.arm64-node"}}' "$IMG" 2>/dev/null)" != "$KEY" ]; then
    log "docker load $IMG"; docker load -i "$TARBALL" >/dev/null
  fi
  [ "$(docker image inspect -f '{{.Architecture}}' "$IMG")" = arm64 ] || die "$IMG is not marked arm64"
}

case "${1:-load}" in
  tarball) make_tarball ;;
  load) make_tarball; load_image ;;
  name) ;;
  *) die "usage: $0 [tarball|load|name]" ;;
esac
printf 'OTA_ARM64_NODE_IMAGE=%s\nOTA_ARM64_NODE_TARBALL=%s\n' "$IMG" "$TARBALL" >&3
