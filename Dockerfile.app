# The weather app. Built by the agent from a release tag's tree, or by hand:
#   docker build -f Dockerfile.app --build-arg VERSION=1.2.0 --build-arg REVISION=$(git rev-parse HEAD) .
# Base images are build args so a private mirror or a local stand-in can be used.
ARG NODE_BUILD_IMAGE=node:20-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# better-sqlite3 compiles here when no prebuilt binary can be fetched (needs python3, make, g++).
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.app.json ./
COPY common ./common
COPY app ./app
RUN npx tsc -p tsconfig.app.json && npm prune --omit=dev --no-audit --no-fund
# The classic builder leaves this stage as an untagged image; the label lets the agent find
# and prune those (it keeps the newest as the next build's cache). Constant, so it never
# invalidates the cache.
LABEL io.edge-ota.stage="build"

FROM ${NODE_IMAGE}
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="weather-app" \
      org.opencontainers.image.description="Simulated weather station that spools readings locally and uploads them to SQL" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
ENV NODE_ENV=production \
    WEATHER_APP_VERSION=${VERSION} \
    WEATHER_DATA_DIR=/data
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME ["/data"]
# Healthy = this process stored a reading durably in the last 3 intervals + 5 s and its latest
# store succeeded (see README, "What healthy means"). The agent gates every switch on this.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=2 \
  CMD ["node", "dist/app/health-check.js"]
# node is PID 1 and handles SIGTERM itself: it flushes and exits 0 within about 3 s.
STOPSIGNAL SIGTERM
CMD ["node", "dist/app/main.js"]
