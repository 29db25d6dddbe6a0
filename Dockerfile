# Debian bookworm's glibc matches the native uWebSockets.js build we use.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY streams streams
COPY container container
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Two malloc arenas instead of one per thread (glibc; so not in the portable `npm start`), and as
# `npm start`: a 1 MB young generation and one V8 worker thread; measured in bench/ (footprint suite).
ENV MALLOC_ARENA_MAX=2
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
EXPOSE 5000
CMD ["node", "--max-semi-space-size=1", "--v8-pool-size=1", "dist/container/main.js"]
