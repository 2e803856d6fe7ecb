# The weather app. Built by the agent from a release tag's tree, or by hand:
#   docker build -f Dockerfile.app --build-arg VERSION=1.2.0 --build-arg REVISION=$(git rev-parse HEAD) .
# Base images are build args so a private mirror or a local stand-in can be used.
#
# Why the layers are laid out this way: a device keeps every layer of every version it keeps,
# and a pull fetches only the layers it lacks. So the final image's layers go from what changes
# least to what changes most: the base and /data (never), node_modules (when package-lock.json
# changes), dist (every release). A code-only release then adds one small layer (the compiled
# app, well under 1 MB) and reuses the ~97 MB node_modules layer of the version before it.
# That reuse needs the build cache: anything above a changed step is rebuilt, so the
# per-version ARG/LABEL/ENV come last, and node_modules is pruned in its own stage, which
# reruns only when the lock file changes (pruned after the code copy, it was rebuilt for every
# release). Each builder stage ends in an io.edge-ota.stage label: the classic builder leaves
# those stage images untagged, and the agent tags the newest of each as its build cache and
# removes superseded ones (agent/image/build-stages.ts).
ARG NODE_BUILD_IMAGE=node:20-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# Every dependency, dev ones included (tsc). Dockerfile.agent starts with the same steps, so
# one npm ci serves both images.
FROM ${NODE_BUILD_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# better-sqlite3 compiles here when no prebuilt binary can be fetched (needs python3, make, g++).
RUN npm ci --no-audit --no-fund

# The runtime dependencies only. From deps, so it reruns only when deps does.
FROM deps AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund
LABEL io.edge-ota.stage="prod-deps"

FROM deps AS build
COPY tsconfig.json tsconfig.app.json ./
COPY common ./common
COPY app ./app
RUN npx tsc -p tsconfig.app.json
LABEL io.edge-ota.stage="build"

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    WEATHER_DATA_DIR=/data
WORKDIR /app
RUN mkdir -p /data && chown 1000:1000 /data
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=deps /src/package.json ./package.json
COPY --from=build /src/dist ./dist
USER 1000:1000
VOLUME ["/data"]
# Healthy = this process stored a reading durably in the last 3 intervals + 5 s and its latest
# store succeeded (see README, "What healthy means"). The agent gates every switch on this.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=2 \
  CMD ["node", "dist/app/health-check.js"]
# node is PID 1 and handles SIGTERM itself: it flushes and exits 0 within about 3 s.
STOPSIGNAL SIGTERM
CMD ["node", "dist/app/main.js"]
# Last: these differ for every version. They add no layer data, but every step after them
# would miss the build cache on every release.
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="weather-app" \
      org.opencontainers.image.description="Simulated weather station that spools readings locally and uploads them to SQL" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
ENV WEATHER_APP_VERSION=${VERSION}
