# keymint: an authorization server for machine-to-machine API access.
#   docker build -t keymint .
#   docker run -p 8080:8080 -v keymint-data:/data --read-only keymint
# The first start on an empty volume prints the bootstrap admin's one-time password.

# Build: compile TypeScript (and anything else `npm run build` makes) with every dependency.
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npm run build

# Production dependencies only, with the native module built for this image.
FROM node:20-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    KEYMINT_HOST=0.0.0.0 \
    KEYMINT_PORT=8080 \
    KEYMINT_DATABASE_URL=sqlite:/data/keymint.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/package.json ./package.json
# Data (the SQLite database and its master key file) lives on the volume; the rest can be read-only.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/keymint"]
CMD ["serve"]
