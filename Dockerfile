# Node 24 on Debian 13 (glibc 2.41): uWebSockets.js 20.57's native build loads there, so the image
# always runs the native engine. CI runs this CMD with ENV in a Debian 13 root (.ci/in-debian-root.sh).
FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY streams streams
COPY container container
RUN npm run build && npm prune --omit=dev

FROM node:24-trixie-slim
WORKDIR /app
ENV NODE_ENV=production
# Two malloc arenas instead of one per thread (glibc; so not in the portable `npm start`), and as
# `npm start`: V8's interpreter only (`--lite-mode`: no compiler's code paged in, 12–14 MB less RSS
# on Node 24, less CPU at the 15 s cadence, a text scrape about 1.4× the CPU), no compilation cache
# (1.5 MB less), the bytecode of functions not run since the last full GC dropped (0.7–0.9 MB less: the
# start-up code's), a 1 MB young generation, one V8 worker thread, and Node's bootstrap run rather than
# read from its startup snapshot (Node 24: 3 MB less RSS, 0.1 s more to start); measured in bench/
# (footprint suite) and README, Footprint.
ENV MALLOC_ARENA_MAX=2
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
EXPOSE 5000
CMD ["node", "--lite-mode", "--no-compilation-cache", "--bytecode-old-age=1", "--max-semi-space-size=1", "--v8-pool-size=1", "--no-node-snapshot", "dist/container/main.js"]
