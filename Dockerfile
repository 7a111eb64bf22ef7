# notices: one slim image for the web app and the scheduler; runs as an unprivileged user.

# Browser libraries from the pinned npm packages (Swagger UI for /docs, Leaflet and its drawing tools
# for the maps), so no page loads anything from elsewhere.
FROM node:20-slim AS browser-assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /build
# The locked versions, with their hashes (the same as the tests ran: requirements/runtime.txt is
# the runtime share of requirements/dev.txt), in a layer that a code change does not rebuild.
COPY requirements/runtime.txt ./requirements/
RUN pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md hatch_build.py ./
COPY src ./src
COPY templates ./templates
# The message catalogues: the build (hatch_build.py) compiles them into the package.
COPY locale ./locale
COPY --from=browser-assets /assets/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
     /assets/node_modules/swagger-ui-dist/swagger-ui.css ./templates/static/swagger-ui/
COPY --from=browser-assets /assets/node_modules/leaflet/dist/leaflet.js \
     /assets/node_modules/leaflet/dist/leaflet.css ./templates/static/leaflet/
COPY --from=browser-assets /assets/node_modules/leaflet/dist/images ./templates/static/leaflet/images/
COPY --from=browser-assets /assets/node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js \
     /assets/node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css ./templates/static/leaflet-geoman/
COPY config ./config
# The package alone: its dependencies are in already, and the locked hatchling builds it.
RUN pip install --no-deps --no-build-isolation . \
    && useradd --create-home --uid 10001 notices \
    && mkdir -p /data/var/mail \
    && chown -R notices /data \
    && rm -rf /build

USER notices
WORKDIR /data
ENV NOTICES_DATABASE_URL=sqlite:////data/var/notices.db

EXPOSE 8000
# /livez: this web process and its database answer. (/healthz also judges the schedulers, which
# a web container cannot fix; the compose file checks those with `notices health`.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=4)" || exit 1

# The web app by default; the compose file runs `notices scheduler` from the same image.
CMD ["notices", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-scheduler"]
