# The quorum-gate GitHub App as a container (docs/deployment.md). Probot's convention: the app's
# settings come from the environment (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, and
# the gate's own QG_CLUSTER_FILE, QG_GATE_USER, QG_GATE_PASSWORD_FILE); nothing secret is baked in.
FROM node:24-slim

ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app

# Dependencies first, so that a source change reuses this layer. The dev dependencies (the pinned
# Node among them) are left out: the image's own Node 24 runs the TypeScript sources directly.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY app.yml ./
COPY src ./src

USER node
EXPOSE 3000

# Probot answers GET /ping with PONG as soon as its server listens.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node_modules/.bin/probot", "run", "./src/app/index.ts"]
