#!/usr/bin/env bash
# Builds the weather app for every platform a fleet runs (linux/arm64 for the Pis, linux/amd64)
# with buildx and pushes one multi-platform image, labelled as the agent checks it in pull mode:
# org.opencontainers.image.revision = the tag's commit, .version = the tag's version. Pushed as
# <REPOSITORY>:<version>, the version as the agent spells it (no "v", no +build metadata).
# .github/workflows/release.yml runs this on a version tag; the modern-lane test
# (test/engine/release-image.test.ts) runs the same build against a local registry.
# Usage: scripts/release-image.sh REPOSITORY TAG [COMMIT]   e.g. ghcr.io/acme/weather v1.2.0
#   env: PLATFORMS (linux/arm64,linux/amd64), DOCKERFILE (Dockerfile.app), CONTEXT (.),
#        SOURCE (the repository URL for org.opencontainers.image.source), BUILD_ARGS (K=V,K=V)
# stdout: only IMAGE=<REPOSITORY>:<version> and REVISION=<commit>.
set -euo pipefail
exec 3>&1 1>&2
die() { echo "[release-image] ERROR: $*"; exit 2; }

[ $# -ge 2 ] || die "usage: $0 REPOSITORY TAG [COMMIT]"
repository="$1" tag="$2"
# The agent's own version grammar (agent/release/version.ts): anything else it ignores.
num='(0|[1-9][0-9]*)' ident='[0-9A-Za-z-]+'
[[ "$tag" =~ ^v?$num\.$num\.$num(-$ident(\.$ident)*)?(\+$ident(\.$ident)*)?$ ]] \
  || die "TAG '$tag' is not a version tag such as v1.2.0 or 1.3.0-beta.1: the agent would ignore it"
version="${tag#v}"; version="${version%%+*}"
commit="${3:-$(git rev-parse --verify "$tag^{commit}" 2>/dev/null)}" \
  || die "cannot find the commit of tag '$tag': pass COMMIT (GITHUB_SHA in a workflow)"
[[ "$commit" =~ ^[0-9a-f]{40}$ ]] || die "COMMIT '$commit' is not a full 40-character commit id"
[[ "$repository" =~ ^[a-z0-9][a-z0-9._:/-]*$ ]] \
  || die "REPOSITORY '$repository' is not a lower-case image repository such as ghcr.io/acme/weather"

args=(--platform "${PLATFORMS:-linux/arm64,linux/amd64}" -f "${DOCKERFILE:-Dockerfile.app}"
  --build-arg "VERSION=$version" --build-arg "REVISION=$commit" --build-arg "SOURCE=${SOURCE:-unknown}"
  --provenance=false -t "$repository:$version" --push)
IFS=',' read -r -a extra <<<"${BUILD_ARGS:-}"
for a in "${extra[@]}"; do [ -z "$a" ] || args+=(--build-arg "$a"); done
echo "[release-image] buildx: $repository:$version from $commit for ${PLATFORMS:-linux/arm64,linux/amd64}"
docker buildx build "${args[@]}" "${CONTEXT:-.}"
printf 'IMAGE=%s\nREVISION=%s\n' "$repository:$version" "$commit" >&3
