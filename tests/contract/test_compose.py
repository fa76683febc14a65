"""deploy/compose.yaml, the workstation's whole platform: every service's API and worker from the
one image, each with an environment its own configuration accepts, the files it keeps on a volume
its API and worker share, pinned infrastructure images that report their health, and the demo
seeded before any service starts. (Run where Docker exists; these checks need none.)"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
import yaml

from devstack.paths import ROOT
from eventkit.topics import Services

pytestmark = pytest.mark.contract

COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
PROCESSES = {f"{service}-{role}": (service, role) for service in Services.ALL for role in ("api", "worker")}
INFRA = ("kafka", "mongo", "mailpit")
# The variable naming each service's own blob store (the one environment is shared).
BLOB_VARIABLE = {
    "intake": "BLOB_URL",
    "processing": "PROCESSING_BLOB_URL",
    "notify": "NOTIFY_BLOB_URL",
    "portal": "PORTAL_BLOB_URL",
}
DATA = "/var/lib/motcua"  # the image's data folder (deploy/Dockerfile)


def environment(name: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[name]["environment"].items()}


def mounts(name: str) -> dict[str, str]:
    """Container path → volume of the container's mounts."""
    found = {}
    for volume in SERVICES[name].get("volumes", []):
        source, target, *_ = volume.split(":")
        found[target] = source
    return found


def test_every_service_runs_its_api_and_its_worker_from_the_one_image():
    assert set(SERVICES) == {*PROCESSES, *INFRA, "setup"}
    for name, (service, role) in PROCESSES.items():
        container = SERVICES[name]
        assert container["image"] == "motcua:dev" and container["build"]["dockerfile"] == "deploy/Dockerfile"
        assert container["command"] == [service, role], name
        assert container["depends_on"]["setup"]["condition"] == "service_completed_successfully", name
    published = [SERVICES[f"{s}-api"]["ports"] for s in Services.ALL]
    assert sorted(published) == [["8000:8000"], ["8001:8000"], ["8002:8000"], ["8003:8000"]]


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_process_environment_is_one_its_configuration_accepts(name, tmp_path):
    service, role = PROCESSES[name]
    config = importlib.import_module(f"{service}.config")
    # The container's data folder, its mounted volumes there, stands at a folder of the test's.
    env = {k: v.replace(DATA, str(tmp_path)) for k, v in environment(name).items()}
    for target in mounts(name):
        (tmp_path / target.removeprefix(DATA + "/")).mkdir(parents=True, exist_ok=True)
    loaded = config.load_config(worker=role == "worker", environ=env)
    assert loaded.mongo_url.startswith("mongodb://mongo:27017/")
    assert loaded.kafka_bootstrap == "kafka:9092"
    if service != "processing":
        assert loaded.jwt_jwks_url == "http://processing-api:8000/.well-known/jwks.json"
    if service in ("processing", "portal"):  # counter and online filings, server to server
        assert env["INTAKE_API_URL"] == "http://intake-api:8000"


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_files_are_kept_on_volumes_the_api_and_its_worker_share(name):
    service, role = PROCESSES[name]
    env, mounted = environment(name), mounts(name)
    partner = f"{service}-{'worker' if role == 'api' else 'api'}"
    path = env[BLOB_VARIABLE[service]].removeprefix("file://")
    assert path in mounted, f"{name}: its blob store {path} is on a volume"
    assert mounts(partner).get(path) == mounted[path], f"{name} and {partner} share {path}"
    if service in ("processing", "notify"):
        assert mounted.get(env["SIGNING_CERTS_DIR"]) == "signing", f"{name}: the setup's certificates"


def test_the_infrastructure_is_pinned_and_reports_its_health():
    for name in INFRA:
        image = SERVICES[name]["image"]
        assert re.search(r":v?\d+\.\d+\.\d+$", image), image
    for name in ("kafka", "mongo"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert "--replSet" in SERVICES["mongo"]["command"], "MongoDB as a replica set (of one)"
    assert SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft"
    assert "replicaSet=rs0" in environment("intake-api")["MONGO_URL"]


def test_setup_makes_the_certificates_and_seeds_the_demo_before_the_services():
    setup: dict[str, Any] = SERVICES["setup"]
    script = " ".join(setup["command"])
    assert "ensure_unit_certificates(Path('/var/lib/motcua/signing'))" in script
    assert "processing.importer --seed --demo-staff" in script
    assert setup["restart"] == "no" and mounts("setup")["/var/lib/motcua/signing"] == "signing"
    assert {"kafka", "mongo"} <= set(setup["depends_on"])
