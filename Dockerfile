FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY eventrunner ./eventrunner
COPY schedules ./schedules
COPY overlays ./overlays
COPY static ./static
RUN pip install --no-cache-dir -e .
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["eventrunner", "serve", "--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]
CMD ["--demo"]
