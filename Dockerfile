# One image for every DockDB service (migrate, dask-scheduler, dask-worker, web).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DOCKDB_HOME=/var/lib/dockdb

RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm libxrender1 libxext6 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
ARG DOCKDB_EXTRAS=gpu,slurm
RUN pip install --no-cache-dir -e ".[${DOCKDB_EXTRAS}]" \
    && if [ -x webapp/install_assets.sh ]; then webapp/install_assets.sh; fi \
    && mkdir -p "$DOCKDB_HOME"

EXPOSE 8000 8786 8787
CMD ["dockdb", "--help"]
