# hubaudit's nightly job in a container: the scheduler and a worker in one process, as a
# non-root user. Config and tokens come from outside: the config file from a mount, tokens
# from the environment (token_env) or mounted secret files (token_file).
#
#   docker build -t hubaudit .
#   docker run -d --name hubaudit \
#     -v /srv/hubaudit/hubaudit.toml:/config/hubaudit.toml:ro \
#     -e HUBAUDIT_DATABASE_URL=postgresql://hubaudit@db.internal:5432/hubaudit \
#     -e HUBAUDIT_ACME_PROD_TOKEN \
#     hubaudit
#   docker exec hubaudit hubaudit db upgrade     # once, and after each upgrade of the image
#
# More workers on Postgres: the same image with the command `worker` (README: Deploying).
# The web app, a third role (README: The web app): the command `serve --host 0.0.0.0`, port
# 8080 published, [web] secret_key_env's variable set, and `--health-cmd "hubaudit health
# --database-only"` (it runs no scheduler whose heartbeat the default probe looks for).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md config.example.toml ./
COPY src ./src
COPY migrations ./migrations
COPY fixtures/demo ./fixtures/demo
# hubaudit and every dependency as wheels: the final image needs no compiler and no network
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /home/hubaudit hubaudit
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels hubaudit \
    && rm -rf /wheels
USER hubaudit
WORKDIR /home/hubaudit
ENV HUBAUDIT_CONFIG=/config/hubaudit.toml \
    PYTHONUNBUFFERED=1
# healthy while the database answers and this container's scheduler keeps its heartbeat
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD ["hubaudit", "health"]
# `serve` listens here
EXPOSE 8080
ENTRYPOINT ["hubaudit", "--log-format", "json"]
CMD ["schedule", "run"]
