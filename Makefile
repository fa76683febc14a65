# The two commands of the README: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
VENV := .local/venv/bin
export PYTHONPATH := libs/eventkit:libs/webui:tools:services/intake:services/processing:services/notify:services/portal:.

.PHONY: install run test lint format token bench import replay rebuild-portal manifests

install:
	@bash deploy/local/install.sh

run: install
	@$(VENV)/python -m devstack run

test: install lint
	@$(VENV)/python -m pytest

lint: install
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/mypy

format: install
	@$(VENV)/ruff check --fix .
	@$(VENV)/ruff format .

token: install
	@$(VENV)/python -m devstack token $(if $(ROLE),--role "$(ROLE)") $(if $(UNIT),--unit "$(UNIT)") $(if $(USER_ID),--user "$(USER_ID)")

# The generated files of the cluster manifests' base (deploy/k8s/base: services, topics).
manifests: install
	@$(VENV)/python -m devstack manifests

# Benchmarks, each figure beside a baseline measured in the same run, and the report written from
# them: docs/performance.md (not part of `make test`). QUICK=1: every section at small sizes, a smoke
# run into .local/bench/quick/. SECTIONS=pipeline,portal: only those (the others keep their figures).
# The first full run loads a million dossiers for processing (about 35 minutes), kept for later runs.
bench: install
	@$(VENV)/python bench/run_all.py $(if $(QUICK),--quick) $(if $(SECTIONS),--sections "$(SECTIONS)")

# Import a catalogue file into processing: make import KIND=procedures FILE=path.json
# (against MONGO_URL, by default the store `make run` starts)
import: install
	@MONGO_URL="$${MONGO_URL:-mongodb://127.0.0.1:$${MONGO_PORT:-27017}/}" \
		$(VENV)/python -m processing.importer "$(KIND)" "$(FILE)"

# Re-deliver events (see libs/eventkit/eventkit/replay.py), e.g.
#   make replay ARGS="--dry-run group intake.dossiers.v1 processing.intake-dossiers --from-offset 0"
#   make replay ARGS="dead-letters intake.dossiers.v1.processing.intake-dossiers.dlt --error-type X"
# (against KAFKA_BOOTSTRAP_SERVERS, by default the broker `make run` starts)
replay: install
	@$(VENV)/python -m eventkit.replay $(ARGS)

# Rebuild the portal's read models (dossier status, statistics, letter statuses, catalogue) from the
# topics: drops them and re-delivers every topic the portal reads to its groups' retry topics, for
# the portal worker to apply (see services/portal/portal/rebuild.py); ARGS="--dry-run" only counts.
# (against MONGO_URL and KAFKA_BOOTSTRAP_SERVERS, by default the store and broker `make run` starts)
rebuild-portal: install
	@MONGO_URL="$${MONGO_URL:-mongodb://127.0.0.1:$${MONGO_PORT:-27017}/}" \
		KAFKA_BOOTSTRAP_SERVERS="$${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$${KAFKA_PORT:-9092}}" \
		$(VENV)/python -m portal.rebuild $(ARGS)
