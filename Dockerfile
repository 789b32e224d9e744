# Build the wheel (it carries the templates, overlays, static files and shipped schedules)
# and wheels for its dependencies, then install only those into a clean image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY eventrunner ./eventrunner
COPY schedules ./schedules
COPY overlays ./overlays
COPY static ./static
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# The share image (/share.png) is drawn in DejaVu Sans Bold.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels eventrunner && rm -rf /wheels
# Schedule files given on the command line (docker-compose.yml: "schedules/your-day.yaml")
# are read from here; the demo's schedule is inside the package.
WORKDIR /app
COPY schedules ./schedules
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["eventrunner", "serve", "--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]
CMD ["--demo"]
