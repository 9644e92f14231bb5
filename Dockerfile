# syntax=docker/dockerfile:1
#
# latentcord images. Two final targets:
#   cuda  GPU boxes (default: the last stage). Needs the NVIDIA Container Toolkit and `--gpus all`.
#   cpu   any x86-64 Linux host.
# Build:  docker build --target cuda -t latentcord:cuda .
#         docker build --target cpu  -t latentcord:cpu  .
# Run, build arguments, volumes and updates: docs/docker.md.
#
# glibc bases only: onnxruntime-node ships no musl (Alpine) build.

# Node 24 is the active LTS line (Node 20 reached its end of life in April 2026).
ARG NODE_IMAGE=node:24.20.0-bookworm-slim
# onnxruntime-node 1.30's CUDA provider (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux) is built for CUDA 12.x and
# cuDNN 9.x. CUDA 12.8 also covers Blackwell GPUs and needs NVIDIA driver 570 or newer; with an older driver
# build with e.g. --build-arg CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 (driver 560 or newer).
# Any CUDA 12.x cuDNN 9 runtime image with glibc >= 2.36 (the build stage's Debian 12) fits.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
# The npm the project is developed and tested with (its package.json `allowScripts` needs npm 11).
ARG NPM_VERSION=11.19.1

# ---------------------------------------------------------------------------------------------------------
# Build: the same `npm ci` and `npm run build` that CI runs, then production dependencies only.
# ---------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
ARG NPM_VERSION
# python3, make and g++: better-sqlite3 compiles itself with node-gyp when its prebuilt binary cannot be
# downloaded. tini: its static build is copied into both final images.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ tini \
    && rm -rf /var/lib/apt/lists/* \
    && npm install --global "npm@${NPM_VERSION}"
WORKDIR /app
# Dependencies first, so that a change to the sources reuses the installed node_modules layer.
# package.json's allowScripts denies onnxruntime-node's install script (it only downloads the CUDA provider; the
# CPU provider is bundled); the cuda path runs it below. .npmrc sets engine-strict (npm >= 11.17, installed above).
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.json cli.ts ./
COPY config ./config
COPY commands ./commands
COPY src ./src
# onnxruntime-node carries its macOS and Windows binaries too (about 220 MB); Linux images need only linux/.
RUN npm run build \
    && npm prune --omit=dev \
    && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32

# ---------------------------------------------------------------------------------------------------------
# CUDA provider libraries for onnxruntime-node, downloaded from NuGet by its own install script, run by hand:
# allowScripts keeps npm from running it, and the script reads ONNXRUNTIME_NODE_INSTALL to choose the CUDA 12 build.
# ---------------------------------------------------------------------------------------------------------
FROM build AS cuda-modules
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
    && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
    && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so

# ---------------------------------------------------------------------------------------------------------
# cpu: Debian slim with Node 24.
# ---------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS cpu
ARG NODE_IMAGE
LABEL org.opencontainers.image.title="latentcord (CPU)" \
      org.opencontainers.image.description="Self-hosted Discord bot that runs Stable Diffusion (ONNX Runtime) on the CPU" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# Home is /data, the one writable place: onnxruntime keeps a small state file under ~/.cache.
RUN groupadd --gid 10001 latentcord \
    && useradd --no-log-init --uid 10001 --gid latentcord --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin latentcord \
    && mkdir -p /data /models \
    && chown latentcord:latentcord /data /models
COPY --from=build /usr/bin/tini-static /usr/local/bin/tini
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/config ./config
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# LATENTCORD_HTTP_PORT turns on the bot's HTTP endpoint (bound to 127.0.0.1) for the HEALTHCHECK below.
ENV NODE_ENV=production \
    LATENTCORD_DEVICE=cpu \
    LATENTCORD_DATA_DIR=/data \
    LATENTCORD_HTTP_PORT=9464
# /data: SQLite database, downloaded models, onnxruntime's optimised-graph cache.
# /models: an optional model folder of your own; set LATENTCORD_MODEL_DIR to it (e.g. /models).
VOLUME ["/data", "/models"]
USER latentcord:latentcord
# Healthy when /healthz answers 200 (Discord connected and pipeline ready); the start period covers the
# first start, which downloads the default model into /data.
HEALTHCHECK --interval=30s --timeout=10s --start-period=10m --retries=3 \
    CMD ["node", "-e", "require('node:http').get({ host: '127.0.0.1', port: Number(process.env.LATENTCORD_HTTP_PORT || 9464), path: '/healthz', timeout: 5000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]
# On SIGTERM the bot stops taking jobs and lets the running one finish for shutdown.graceSeconds (30 s by
# default) before it cancels it. Docker's default stop timeout is 10 s: run with `--stop-timeout 45` (or
# compose `stop_grace_period: 45s`). tini (PID 1) forwards the signal to node only, not to the pipeline worker
# process, so the bot drains in order, and it reaps exited child processes.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tini", "--", "node", "/app/dist/cli.js"]
CMD ["bot"]

# ---------------------------------------------------------------------------------------------------------
# cuda: NVIDIA CUDA 12 + cuDNN 9 runtime with Node 24 from the official Node image (the binary alone: the
# image runs `node`, never npm). The default target.
# ---------------------------------------------------------------------------------------------------------
FROM ${CUDA_IMAGE} AS cuda
ARG CUDA_IMAGE
LABEL org.opencontainers.image.title="latentcord (CUDA)" \
      org.opencontainers.image.description="Self-hosted Discord bot that runs Stable Diffusion (ONNX Runtime) on an NVIDIA GPU" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${CUDA_IMAGE}"
RUN groupadd --gid 10001 latentcord \
    && useradd --no-log-init --uid 10001 --gid latentcord --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin latentcord \
    && mkdir -p /data /models \
    && chown latentcord:latentcord /data /models
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /usr/bin/tini-static /usr/local/bin/tini
WORKDIR /app
COPY --from=cuda-modules /app/package.json ./
COPY --from=cuda-modules /app/config ./config
COPY --from=cuda-modules /app/node_modules ./node_modules
COPY --from=cuda-modules /app/dist ./dist
ENV NODE_ENV=production \
    LATENTCORD_DEVICE=cuda \
    LATENTCORD_DATA_DIR=/data \
    LATENTCORD_HTTP_PORT=9464
VOLUME ["/data", "/models"]
USER latentcord:latentcord
HEALTHCHECK --interval=30s --timeout=10s --start-period=10m --retries=3 \
    CMD ["node", "-e", "require('node:http').get({ host: '127.0.0.1', port: Number(process.env.LATENTCORD_HTTP_PORT || 9464), path: '/healthz', timeout: 5000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tini", "--", "node", "/app/dist/cli.js"]
CMD ["bot"]
