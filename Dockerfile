# Robot SRE container image: a static-ish release binary on a slim Debian base, running as a
# non-root user. No secrets are baked in: pass them as ROBOT_SRE__… environment variables (from a
# Kubernetes Secret) and mount the configuration file at /etc/robot-sre/config.yaml.
#
#   docker build -t robot-sre .
#   docker run -p 8080:8080 -e ROBOT_SRE__ALERTMANAGER__TOKEN=… robot-sre

FROM rust:1.89-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches/ingest && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && echo 'fn main() {}' > benches/ingest/main.rs \
    && cargo build --release --locked --bin robot-sre \
    && rm -rf src benches
COPY src src
COPY config config
COPY benches benches
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin robot-sre

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin robot-sre
COPY --from=build /src/target/release/robot-sre /usr/local/bin/robot-sre
COPY config/robot-sre.example.yaml /etc/robot-sre/config.example.yaml
USER 10001:10001
ENV ROBOT_SRE__SERVER__LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/robot-sre"]
CMD ["serve"]
