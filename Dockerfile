# fragviz dashboard image. Build from the repository root:
#   docker build -t fragviz:latest .
# Runs as UID 10001 and writes nothing outside /tmp, so it works with a read-only root filesystem
# (see deploy/kubernetes/deployment.yaml, which mounts an emptyDir at /tmp).
FROM python:3.11-slim

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp

WORKDIR /app

# Debian's chromium: kaleido renders the PDF report's static charts with it.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first: this layer is reused as long as requirements.txt is unchanged.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The application. The copy list is explicit; .dockerignore keeps secrets and caches out of the build context.
COPY pyproject.toml README.md app.py ./
COPY fragviz/ fragviz/
COPY pages/ pages/
COPY data/ data/
COPY .streamlit/config.toml .streamlit/config.toml
# Installs the package (and the `fragviz` CLI) without touching the pinned dependencies above.
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build fragviz.egg-info \
    && groupadd --gid 10001 fragviz \
    && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin fragviz

# Runtime: no bytecode writes (the root filesystem may be read-only), no file watching (the code never changes).
# PYTHONPATH: the dashboard and the CLI both import the copied source tree, data files included
# (fragviz/sources/queries.yaml), whatever the installed wheel's package data lists.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none

# Numeric, so Kubernetes can check runAsNonRoot without resolving a user name.
USER 10001:10001

EXPOSE 8501

# The slim image has no curl: ask Streamlit's health endpoint with Python's standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", "--browser.gatherUsageStats=false"]
