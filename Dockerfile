# Palabre's image: the package with its trained models and translations, on Python 3.11, run as
# an unprivileged user. docs/deploy.md says how to use it (deploy/compose.yaml).
#
#   docker build -t palabre .
#   docker run --rm -p 8000:8000 -v palabre-data:/data palabre      # SQLite, one container

# --- build: install Palabre and its dependencies into a virtual environment --------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Not editable: the models (nlp/models), lexicons, templates and compiled translations are package
# data, copied into site-packages with the code.
RUN python -m venv /opt/palabre \
    && /opt/palabre/bin/pip install . \
    && /opt/palabre/bin/python -c "import palabre.nlp, pathlib; assert any(pathlib.Path(palabre.nlp.__file__).parent.joinpath('models').glob('*.npz'))"

# --- run: the virtual environment only, no compiler, no pip cache -----------------------------
FROM python:3.11-slim-bookworm
# The PDF report: WeasyPrint loads Pango when imported (the slim image has neither it nor a font);
# DejaVu for the text, Noto Color Emoji for the emoji of contributors' names and posts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 palabre \
    && useradd --system --uid 10001 --gid palabre --home-dir /data --shell /usr/sbin/nologin palabre \
    && mkdir -p /data /run/palabre-metrics \
    && chown palabre:palabre /data /run/palabre-metrics
COPY --from=build /opt/palabre /opt/palabre
ENV PATH=/opt/palabre/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PALABRE_DATA_DIR=/data \
    PALABRE_METRICS_DIR=/run/palabre-metrics \
    PALABRE_LOG_FORMAT=json
USER palabre
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["palabre"]
# One container, SQLite, an embedded task worker: the compose file runs the web processes, the
# workers and the scheduler in containers of their own instead.
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
