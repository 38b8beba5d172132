# The kansa image: consumers, migrations, the simulator and the report tools (one image, many commands).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY kansa ./kansa
COPY schemas ./schemas
COPY producers ./producers
COPY consumers ./consumers
RUN pip install . && useradd --system --uid 10001 --home-dir /var/lib/kansa kansa \
    && mkdir -p /var/lib/kansa/state && chown -R kansa /var/lib/kansa
# Policies are data, read at start and on change (KANSA_PIPELINE_POLICY_DIR); mount over them to change policy.
COPY policies ./policies

USER kansa
ENV KANSA_PIPELINE_POLICY_DIR=/app/policies KANSA_STATE_DIR=/var/lib/kansa/state
EXPOSE 9464
ENTRYPOINT ["kansa"]
CMD ["--help"]
