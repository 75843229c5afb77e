# syntax=docker/dockerfile:1
# dfns-rotator daemon. Build: docker build -t dfns-rotator .  Run: see docker-compose.yml and the README.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
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
USER rotator
VOLUME ["/var/lib/dfns-rotator"]
EXPOSE 8730
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8730/livez').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM reaches node directly (exec form): the daemon finishes its active jobs and exits.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
