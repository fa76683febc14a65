#!/usr/bin/env bash
# Installs everything the local platform needs into .local/ (ignored by git).
# Idempotent: each step is skipped when its stamp or binary is already there.
#   .local/venv          Python virtual environment from the pinned requirements
#   .local/kafka/libs    Apache Kafka broker jars from Maven Central (deploy/local/kafka/pom.xml)
#   .local/bin           ferretdb (patched, deploy/local/ferretdb/), mailpit and kustomize built with Go
#   .local/node          axe-core (browser tests) and the Strimzi resource models (manifest tests) from npm
#   /usr/bin/chromium    Debian's Chromium for the browser tests (apt; Playwright never downloads one)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="${MOTCUA_LOCAL:-$ROOT/.local}"
FERRETDB_VERSION="v1.24.2"
MAILPIT_VERSION="v1.33.1"
KUSTOMIZE_VERSION="v5.8.2"
AXE_CORE_VERSION="4.14.1"
STRIMZI_MODELS="@kubernetes-models/strimzi-kafka-operator@1.0.1"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PYTHON="${PYTHON:-python3}"

mkdir -p "$LOCAL/bin"
log() { printf '[install] %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null 2>&1 || { log "missing required tool: $1 ($2)"; exit 1; }
}

install_python() {
  local stamp="$LOCAL/venv/.requirements.sha256"
  local want
  want="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  need "$PYTHON" "Python 3.11"
  log "creating Python virtual environment"
  [[ -x "$LOCAL/venv/bin/python" ]] || "$PYTHON" -m venv "$LOCAL/venv"
  "$LOCAL/venv/bin/python" -m pip install --quiet --upgrade pip
  "$LOCAL/venv/bin/python" -m pip install --quiet -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt"
  echo "$want" >"$stamp"
}

install_kafka() {
  local stamp="$LOCAL/kafka/.pom.sha256"
  local want
  want="$(sha256sum "$ROOT/deploy/local/kafka/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  need java "Java 17"
  need mvn "Apache Maven"
  log "resolving Apache Kafka jars from Maven Central"
  rm -rf "$LOCAL/kafka/libs"
  mkdir -p "$LOCAL/kafka/libs"
  mvn -q -B -Dstyle.color=never -f "$ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LOCAL/kafka/libs"
  echo "$want" >"$stamp"
}

# `go install` of a module builds it without its generated build/version/version.txt, and FerretDB
# refuses to start without that file; so FerretDB is built from its module copy with the file written
# and with the patches in deploy/local/ferretdb/ applied (each one says what it fixes).
install_ferretdb() {
  local bin="$LOCAL/bin/ferretdb" stamp="$LOCAL/bin/.ferretdb.version" want patch
  want="$FERRETDB_VERSION $(cat "$ROOT"/deploy/local/ferretdb/*.patch | sha256sum | cut -c1-16)"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  need go "Go toolchain"
  need patch "GNU patch"
  log "building ferretdb $FERRETDB_VERSION"
  local mod src="$LOCAL/src/ferretdb-$FERRETDB_VERSION"
  mod="$(cd "$LOCAL" && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$src"
  mkdir -p "$LOCAL/src"
  cp -r "$mod" "$src"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  for patch in "$ROOT"/deploy/local/ferretdb/*.patch; do
    patch -s -p1 -d "$src" <"$patch"
  done
  (cd "$src" && go build -o "$bin" ./cmd/ferretdb)
  rm -rf "$src"
  echo "$want" >"$stamp"
}

install_mailpit() {
  local bin="$LOCAL/bin/mailpit" stamp="$LOCAL/bin/.mailpit.version"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$MAILPIT_VERSION" ]]; then return; fi
  need go "Go toolchain"
  log "building mailpit $MAILPIT_VERSION"
  GOBIN="$LOCAL/bin" go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
  echo "$MAILPIT_VERSION" >"$stamp"
}

# The cluster manifests (deploy/k8s) are rendered with kustomize for their validation in the tests.
install_kustomize() {
  local bin="$LOCAL/bin/kustomize" stamp="$LOCAL/bin/.kustomize.version"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$KUSTOMIZE_VERSION" ]]; then return; fi
  need go "Go toolchain"
  log "building kustomize $KUSTOMIZE_VERSION"
  GOBIN="$LOCAL/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  echo "$KUSTOMIZE_VERSION" >"$stamp"
}

# The browser tests drive Debian's Chromium through Playwright (pinned in requirements-dev.txt) and
# check pages with axe-core; a missing browser fails those tests, it never skips them.
install_chromium() {
  if [[ -x "$CHROMIUM" ]]; then return; fi
  need apt-get "Debian's package manager, for chromium"
  log "installing Debian's chromium"
  local sudo=""
  [[ "$(id -u)" == "0" ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

# Node packages of the tests: axe-core (injected into pages by the browser tests) and the Strimzi
# resource models (the cluster manifests' Kafka objects validated against their schemas). One npm
# call: a later one would remove what an earlier one installed without a package.json.
install_node_packages() {
  local stamp="$LOCAL/node/.packages.version" want="axe-core@$AXE_CORE_VERSION $STRIMZI_MODELS"
  if [[ -f "$LOCAL/node/node_modules/axe-core/axe.min.js" && -f "$stamp" \
    && "$(cat "$stamp")" == "$want" ]]; then return; fi
  need npm "Node.js package manager"
  log "installing $want"
  mkdir -p "$LOCAL/node"
  # shellcheck disable=SC2086
  npm install --silent --no-audit --no-fund --no-save --prefix "$LOCAL/node" $want
  echo "$want" >"$stamp"
}

# The Go builds take the longest on a fresh machine, so they run beside the others.
install_ferretdb &
ferret_pid=$!
install_mailpit &
mailpit_pid=$!
install_kustomize &
kustomize_pid=$!
install_python
install_kafka
install_chromium
install_node_packages
wait "$ferret_pid"
wait "$mailpit_pid"
wait "$kustomize_pid"
