# Dossier's app image: the web app (gunicorn), `dossier worker` and `dossier init` all run from it.
# docker-compose.yml builds it for the scale-out stack; see docs/admin/scale-out.md, "Scale-out: docker compose".
#
#   docker build -t dossier:0.1.0 .                              # with LibreOffice (legacy .doc/.xls/.ppt)
#   docker build --build-arg LIBREOFFICE=false -t dossier:0.1.0 .  # ~300 MB smaller; such files then fail with advice
FROM python:3.11-slim-bookworm

# Headless LibreOffice converts legacy Office files, as on a `make run` machine.
ARG LIBREOFFICE=true

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_THREAD_LIMIT=1 \
    SCARF_NO_ANALYTICS=true \
    DO_NOT_TRACK=true \
    DOSSIER_HOME=/data

# The Makefile's RUN_DEBS less python3-venv and redis-server (Redis is its own service), plus
# libgl1 and libglib2.0-0, which opencv-python (RapidOCR) loads and python:slim lacks, and
# postgresql-client (pg_dump/pg_restore 15, as the postgres:15 service) for `dossier backup`/`restore`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libmagic1 \
      tesseract-ocr \
      tesseract-ocr-chi-sim \
      poppler-utils \
      fonts-wqy-microhei \
      libgl1 \
      libglib2.0-0 \
      postgresql-client \
 && if [ "$LIBREOFFICE" = "true" ]; then \
      apt-get install -y --no-install-recommends \
        libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui; \
    fi \
 && rm -rf /var/lib/apt/lists/* \
 && tesseract --list-langs 2>/dev/null | grep -qx chi_sim

WORKDIR /src
# Pinned dependencies first: this layer is rebuilt only when requirements.txt changes (the app's only:
# the test and lint tools of requirements-dev.txt stay out of the image).
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml ./
COPY foundation ./foundation
COPY ingest ./ingest
COPY index ./index
COPY records ./records
COPY pipeline ./pipeline
COPY dossier ./dossier
COPY webui ./webui
COPY workers ./workers
RUN pip install --no-deps . \
 && cd / && rm -rf /src \
 && python -c "import foundation, ingest, index, records, pipeline, dossier.cli, webui.health, workers.runner" \
 && dossier --help >/dev/null

# An unprivileged user owns the data home; a new named volume takes /data's owner from here.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/dossier dossier \
 && mkdir -p /data \
 && chown dossier:dossier /data
VOLUME ["/data"]

USER dossier
WORKDIR /home/dossier
EXPOSE 8000

# The web server by default; compose runs `dossier init` and `dossier worker` from this image too.
# Workers run apart (`dossier worker`), never inside the web container.
ENV WEB_CONCURRENCY=2 \
    GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --worker-class gthread --threads 8 --timeout 300 --graceful-timeout 30 --access-logfile -"
HEALTHCHECK --interval=30s --timeout=30s --start-period=60s --retries=3 \
  CMD ["python", "-m", "webui.health"]
CMD ["gunicorn", "webui.wsgi:app"]
