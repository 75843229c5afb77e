# syntax=docker/dockerfile:1
# dfns-rotator daemon. Build: docker build -t dfns-rotator .  Run: see docker-compose.yml and the README.
# The image runs on the current Node LTS (24); the code also supports Node 20.10+ and 22, which
# CI tests (package.json "engines"). One major for both stages: native modules built in the
# first must match the runtime of the second.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="dfns-rotator" \
      org.opencontainers.image.description="Keeps Dfns service accounts and personal access tokens from expiring, and rotates them safely." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/${NODE_IMAGE}"
# NODE_OPTIONS and MALLOC_ARENA_MAX keep the daemon's peak RSS down (README "Memory"; the scan
# benchmark runs the daemon with both, read from here).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=1" \
    MALLOC_ARENA_MAX=2 \
    DFNS_ROTATOR_STORE_DIR=/var/lib/dfns-rotator/secrets \
    DFNS_ROTATOR_HOST=0.0.0.0 \
    DFNS_ROTATOR_PORT=8730
# A fixed, unprivileged uid: files created by `init` inside the volume belong to it.
RUN groupadd --system --gid 10001 rotator \
 && useradd --system --uid 10001 --gid rotator --home-dir /var/lib/dfns-rotator --shell /usr/sbin/nologin rotator \
 && mkdir -p /var/lib/dfns-rotator/secrets /var/lib/dfns-rotator/keys \
 && chown -R rotator:rotator /var/lib/dfns-rotator \
 && chmod 700 /var/lib/dfns-rotator /var/lib/dfns-rotator/secrets /var/lib/dfns-rotator/keys
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
VOLUME ["/var/lib/dfns-rotator"]
EXPOSE 8730
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8730/livez').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM reaches node directly (exec form): the daemon finishes its active jobs and exits.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
