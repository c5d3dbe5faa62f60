# syntax=docker/dockerfile:1
#
# One image for all nine distributed-mode apps; SERVICE picks which one runs:
#   docker build -t product-trace .
#   docker run -e SERVICE=agri -e DATABASE_URL=... product-trace
#
# TypeScript is compiled at start-up by @swc-node/register, which needs
# @swc/core *and* typescript (a devDependency) at runtime, so the image keeps
# the full dependency tree instead of `npm ci --omit=dev`.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# NODE_ENV must NOT be "production" here: npm would then silently omit devDependencies.
COPY package.json package-lock.json ./
# --ignore-scripts: nothing the services need at runtime has an install script
# (the native swc/xxhash/oxc bindings come as prebuilt optional packages); the
# scripts that exist are nx, telemetry, embedded-postgres binaries (embedded
# mode only) and optional ssh2/cpu-features builds for testcontainers.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# SWC_NODE_CACHE_DIR: swc-node's on-disk transform cache. /tmp is the only
# writable path (an emptyDir in Kubernetes, where the root filesystem is read-only).
ENV NODE_ENV=production \
    RUN_MODE=distributed \
    PORT=8080 \
    SWC_NODE_CACHE_DIR=/tmp/swc-node

# Dependencies and sources stay owned by root: the app user can read, not modify them.
COPY --from=deps /app/node_modules ./node_modules
COPY . .

# Last, so building with another default SERVICE reuses every layer above.
ARG SERVICE=gateway
ENV SERVICE=${SERVICE}

# Numeric uid of the image's "node" user, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sh", "-c", "main=\"services/${SERVICE}/src/main.ts\"; [ -f \"$main\" ] || { echo \"unknown SERVICE '${SERVICE}' (no $main)\" >&2; exit 64; }; exec node scripts/run.js \"$main\""]
