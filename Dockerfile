# syntax=docker/dockerfile:1
# The demo service (dist/main.js) with @wbot/redis-cache, which it imports through the npm workspace link
# node_modules/@wbot/redis-cache -> libs/redis-cache: the runtime stage therefore keeps the library's
# package.json and dist/ at that path.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Manifests first, so that the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY libs/redis-cache/package.json libs/redis-cache/
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
# A fresh production install, not a copy of the build stage's node_modules: it recreates the workspace link
# and carries no dev dependency.
COPY package.json package-lock.json ./
COPY libs/redis-cache/package.json libs/redis-cache/
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/libs/redis-cache/dist libs/redis-cache/dist
COPY --from=build /app/dist dist
# The files stay owned by root, so the app cannot rewrite its own code.
# SQLite, the demo's system of record, writes under data/ (DATABASE_PATH); the app runs as node.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 3000
# Liveness only: a Redis outage must not mark the container unhealthy (the cache falls back, the app serves).
# The slim image has no curl, so node asks.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
