# Kiln: multi-stage build of the one binary and its site assets, with the
# same set-up script the README uses, then a slim non-root runtime.
# Trixie: its Node.js (20) satisfies Tailwind v4 and playwright-core.
FROM rust:1.95-trixie AS build
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Tools first (cargo-leptos, wasm-bindgen-cli, npm packages: ~15 min), so a
# source change does not rebuild them.
COPY .ci/setup .ci/setup
COPY Cargo.lock package.json package-lock.json ./
RUN bash .ci/setup --build-only
COPY . .
# --precompress: a .br and .gz twin of each asset; hash.txt (the bundle's
# hashed names) must sit beside the binary, where the server reads it.
RUN cargo leptos build --release --precompress \
 && mkdir -p /out/bin \
 && cp target/release/kiln target/release/hash.txt /out/bin/ \
 && cp -r target/site /out/site

FROM debian:trixie-slim AS runtime
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates curl git bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/kiln --create-home kiln
COPY --from=build /out/bin/kiln /out/bin/hash.txt /usr/local/bin/
COPY --from=build /out/site /usr/local/share/kiln/site
ENV KILN_LISTEN=0.0.0.0:3000 \
    KILN_DATA_DIR=/var/lib/kiln \
    KILN_SITE_DIR=/usr/local/share/kiln/site \
    KILN_LOG_FORMAT=json
# Steps run under bubblewrap, which needs user namespaces: a runtime whose
# seccomp profile refuses them makes `kiln serve` stop at start with a line
# saying so (allow them, or set KILN_STEP_SANDBOX=none knowingly).
USER kiln
WORKDIR /var/lib/kiln
VOLUME ["/var/lib/kiln"]
EXPOSE 3000
# Checks port 3000: change it too when KILN_LISTEN moves the server.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
# docker stop waits 10 s by default, as long as shutdown_timeout_seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["kiln"]
CMD ["serve"]
