#!/usr/bin/env bash
# The two engine lanes and the switch between them (one engine at a time: they share
# iptables, docker0 and /var/run/docker.sock). Why it is made this way: shared/ENVIRONMENT.md,
# "A modern engine". Usage:
#   scripts/engine-lane.sh install          unpack Docker 26.1 + containerd + compose v2 + buildx
#   scripts/engine-lane.sh use classic|modern   stop the other engine, start this one, move images
#   scripts/engine-lane.sh which            print the lane that runs now
# classic: Debian 12's dockerd 20.10, classic image store, /var/lib/docker (as provision.sh).
# modern:  Debian 13's dockerd 26.1, containerd image store, /var/lib/docker26.
# stdout: only KEY=VALUE lines (OTA_ENGINE_LANE=...).
set -euo pipefail

CACHE=/var/cache/ota-provision
ROOT=/opt/ota-docker26
PLUGINS=/usr/local/lib/docker/cli-plugins
DEBS="docker.io containerd docker-compose docker-buildx"
MODERN_PID=/var/run/docker26.pid CLASSIC_PID=/var/run/docker.pid
# Images provision.sh makes on the classic engine; a switch carries them over (docker save).
STANDINS="local/node:20 local/node-build:20 local/busybox:arm64"

exec 3>&1 1>&2
log() { echo "[engine-lane] $*"; }; die() { log "ERROR: $*"; exit 1; }
docker_ok() { timeout 20 docker info >/dev/null 2>&1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

which_lane() {   # by what answers on the socket, not by pidfiles that may be stale
  docker_ok || { echo none; return 0; }
  case "$(docker version -f '{{.Server.Version}}' 2>/dev/null)" in 20.*) echo classic ;; *) echo modern ;; esac
}

# The mirror is plain HTTP: trust comes from the release file's signature (Debian's keyring, as
# apt and debootstrap check it), which names the index's checksum, which names each .deb's.
fetch_index() {   # $1 dists/trixie URL, $2 where the verified, unpacked index goes
  local tmp sum; tmp="$(mktemp -d)"
  log "fetching and verifying the trixie package index"
  curl -fsS "$1/InRelease" -o "$tmp/InRelease" && curl -fsS "$1/main/binary-amd64/Packages.xz" -o "$tmp/Packages.xz"
  gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$tmp/InRelease" 2>/dev/null \
    || die "the trixie InRelease signature does not verify against Debian's keyring"
  sum="$(awk '/^SHA256:/{s=1;next} /^[^ ]/{s=0} s && $3=="main/binary-amd64/Packages.xz"{print $1}' "$tmp/InRelease")"
  echo "$sum  $tmp/Packages.xz" | sha256sum -c --quiet - || die "the trixie Packages.xz does not match InRelease"
  xz -dc "$tmp/Packages.xz" >"$2.tmp" && mv "$2.tmp" "$2"; rm -rf "$tmp"
}

install_modern() {
  local mirror index="$CACHE/debs/trixie-Packages" p stamp="$ROOT/.debs" want=""
  mirror="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  mkdir -p "$CACHE/debs" "$PLUGINS"
  if [ ! -f "$index" ]; then   # the index pins file names and checksums until the cache is cleared
    fetch_index "${mirror:-http://deb.debian.org/debian}/dists/trixie" "$index"
  fi
  for p in $DEBS; do
    local file sum deb
    read -r file sum < <(awk -v p="$p" '$1=="Package:"{m=($2==p)} m&&$1=="Filename:"{f=$2} m&&$1=="SHA256:"{print f, $2; exit}' "$index")
    [ -n "$file" ] || die "$p is not in the trixie index $index"
    deb="$CACHE/debs/$(basename "$file")"; want+="$(basename "$file") "
    if [ ! -f "$deb" ]; then
      log "downloading $(basename "$file")"
      curl -fsS "${mirror:-http://deb.debian.org/debian}/$file" -o "$deb.tmp" && mv "$deb.tmp" "$deb"
    fi
    echo "$sum  $deb" | sha256sum -c --quiet - || { rm -f "$deb"; die "checksum mismatch: $deb (removed; re-run)"; }
  done
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "unpacking into $ROOT"; rm -rf "$ROOT"; mkdir -p "$ROOT"
    for p in $want; do dpkg-deb -x "$CACHE/debs/$p" "$ROOT"; done
    # docker-init points at tini-static, which is not unpacked: dockerd then uses the host's.
    rm -f "$ROOT/usr/bin/docker-init"
    echo "$want" >"$stamp"
  fi
  echo '{"features":{"containerd-snapshotter":true}}' >"$ROOT/daemon.json"
  log "$("$ROOT/usr/sbin/dockerd" --version)"
}

# The CLI plugins are linked only while the modern engine runs: the classic lane stays as it
# was (docker-compose 1.29, no buildx), and provision.sh picks `docker compose` only here.
plugins() {
  local p; mkdir -p "$PLUGINS"
  for p in docker-compose docker-buildx; do
    if [ "$1" = on ]; then ln -sfn "$ROOT/usr/libexec/docker/cli-plugins/$p" "$PLUGINS/$p"
    elif [ "$(readlink "$PLUGINS/$p" 2>/dev/null)" = "$ROOT/usr/libexec/docker/cli-plugins/$p" ]; then rm -f "$PLUGINS/$p"; fi
  done
}

save_standins() {   # from the classic engine into the cache, named by image ids: saved once
  local imgs=() i ids tar
  for i in $STANDINS; do docker image inspect "$i" >/dev/null 2>&1 && imgs+=("$i"); done
  [ ${#imgs[@]} -gt 0 ] || return 0
  ids="$(docker image inspect -f '{{.Id}}' "${imgs[@]}" | sha256sum | cut -c1-12)"
  tar="$CACHE/standins-$ids.tar"
  [ -f "$tar" ] || { log "docker save ${imgs[*]} -> $tar"; docker save -o "$tar.tmp" "${imgs[@]}" && mv "$tar.tmp" "$tar"; }
  ln -sfn "$tar" "$CACHE/standins-latest.tar"
}

load_standins() {   # into the modern engine, once per saved tarball
  local tar mark="$CACHE/standins-loaded-modern"
  tar="$(readlink -f "$CACHE/standins-latest.tar" 2>/dev/null)" || return 0
  [ -f "$tar" ] || return 0
  if [ "$(cat "$mark" 2>/dev/null)" = "$tar" ] && docker image inspect $STANDINS >/dev/null 2>&1; then return 0; fi
  log "docker load $tar"; docker load -i "$tar" >/dev/null; echo "$tar" >"$mark"
}

stop_engine() {   # $1 pidfile: by pid, never by name (another engine's processes must live)
  alive "$1" || return 0
  local pid; pid="$(cat "$1")"; log "stopping dockerd pid $pid"
  kill -TERM "$pid"
  local i; for i in $(seq 90); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  die "dockerd $pid did not stop within 90 s"
}

start_engine() {
  if [ "$1" = classic ]; then
    # Exactly as scripts/provision.sh starts it. setsid+nohup: it must outlive this script; fds 3
    # and 9 (provision.sh's lock) closed, or whoever waits on them would hang.
    setsid nohup dockerd >>/tmp/ota-dockerd.log 2>&1 </dev/null 3>&- 9>&- &
  else
    [ -x "$ROOT/usr/sbin/dockerd" ] || install_modern
    mkdir -p /var/lib/docker26
    # Its own containerd, shim and docker-proxy first on PATH; runc stays Debian 12's (the
    # trixie runc needs a newer libc).
    PATH="$ROOT/usr/bin:$ROOT/usr/sbin:$PATH" setsid nohup "$ROOT/usr/sbin/dockerd" \
      --config-file "$ROOT/daemon.json" --data-root /var/lib/docker26 --exec-root /var/run/docker26 \
      --pidfile "$MODERN_PID" >>/tmp/ota-dockerd26.log 2>&1 </dev/null 3>&- 9>&- &
  fi
  local i; for i in $(seq 60); do docker_ok && return 0; sleep 1; done
  tail -n 30 "/tmp/ota-dockerd$([ "$1" = modern ] && echo 26).log" || true
  die "the $1 engine did not come up within 60 s"
}

use_lane() {
  local want="$1" now other t0=$SECONDS
  now="$(which_lane)"; other="$([ "$want" = modern ] && echo classic || echo modern)"
  if [ "$now" = "$want" ]; then
    log "$want engine already running"; plugins "$([ "$want" = modern ] && echo on || echo off)"; return 0
  fi
  [ "$want" = classic ] || [ -x "$ROOT/usr/sbin/dockerd" ] || install_modern
  # The stand-ins are made on the classic engine (provision.sh) and carried to the modern one.
  [ "$now" != classic ] || save_standins
  stop_engine "$([ "$other" = modern ] && echo "$MODERN_PID" || echo "$CLASSIC_PID")"
  log "starting the $want engine"; start_engine "$want"
  plugins "$([ "$want" = modern ] && echo on || echo off)"
  [ "$want" != modern ] || load_standins
  log "$want engine up: $(docker version -f '{{.Server.Version}}') in $((SECONDS - t0)) s"
}

case "${1:-which}" in
  install) install_modern ;;
  use) case "${2:-}" in classic|modern) use_lane "$2" ;; *) die "usage: $0 use classic|modern" ;; esac ;;
  which) ;;
  *) die "usage: $0 install | use classic|modern | which" ;;
esac
echo "OTA_ENGINE_LANE=$(which_lane)" >&3
