# Parley's container image: `parley serve`, configured from PARLEY_* environment variables
# (docs/configuration.md), state in the /data volume, running as an unprivileged user.
#
#   docker build -t parley .
#   docker run -p 6667:6667 -p 8080:8080 -v parley-data:/data parley
#
# Stages: toolchain (compilers for better-sqlite3), build (all dependencies, tsc and the web
# client's Vite build), deps (production dependencies only), runtime (the base image plus the
# results: no compilers, no dev dependencies, no sources). See docs/operations.md.

# Overridable so an offline machine can build on a base it made itself
# (deploy/docker/make-local-base.sh tags one with this same name).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
# better-sqlite3 builds from source when its prebuilt binary cannot be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# node-gyp uses the headers that come with the base image's Node instead of downloading them.
# (/usr/local in the official image; $(dirname ...) keeps it right on a base with Node in /usr.)
RUN echo "nodedir=$(dirname "$(dirname "$(command -v node)")")" >> /root/.npmrc

FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
COPY web ./web
RUN npm run build

FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# A fixed uid/gid so a host directory mounted on /data can be given to it (chown 10001:10001).
RUN groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /data --no-create-home --shell /usr/sbin/nologin parley \
 && mkdir /data && chown parley:parley /data
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/web/dist ./web/dist
COPY config/parley.example.yaml ./config/parley.example.yaml
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs

# Defaults for a container: listen on every interface (the host decides what is published),
# JSON logs, the store in the volume. Every key can be overridden with its PARLEY_* variable,
# or with a file: docker run -v ./parley.yaml:/etc/parley.yaml ... serve --config /etc/parley.yaml
ENV NODE_ENV=production \
    PARLEY_DATA_DIR=/data \
    PARLEY_LISTEN=0.0.0.0:6667 \
    PARLEY_HTTP__LISTEN=0.0.0.0:8080 \
    PARLEY_LOG__FORMAT=json
VOLUME ["/data"]
EXPOSE 6667 6697 8080
USER parley:parley

# Ready, not merely alive: a node that cannot reach its store or bus, or is shutting down,
# reports unhealthy (docs/operations.md, "Health").
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs"]

# SIGTERM (docker stop) starts Parley's clean shutdown; alone it stays under docker's 10 s grace
# period with the default shutdown_timeout_seconds of 5. A cluster node drains first
# (shutdown_drain_seconds, 5 s): give it more (`docker stop -t 20`; compose.yaml has 30 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/parley.js"]
CMD ["serve"]
