# The two commands of the README: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
VENV := .local/venv/bin
export PYTHONPATH := libs/eventkit:tools:services/intake:services/processing:services/notify:services/portal

.PHONY: install run test lint format token bench

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
	@$(VENV)/python -m devstack token --role "$(ROLE)" $(if $(UNIT),--unit "$(UNIT)")
