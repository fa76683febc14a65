"""The cluster manifests (deploy/k8s), without a cluster: each overlay rendered by kustomize passes
the Kubernetes 1.31 schemas (kubernetes-validate, strict) and the Strimzi resources' schemas
(@kubernetes-models/strimzi-kafka-operator in Node); the topics are the registry's; every
Deployment's environment is one its service's own configuration accepts; each API and worker has
its probes, limits, disruption budget and network policy; the ingress routes each prefix."""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from devstack import manifests
from devstack.paths import LOCAL, ROOT
from eventkit.topics import Services, all_topic_specs
from portal.service.signatures import load_trust_roots

pytestmark = pytest.mark.contract

KUBERNETES = "1.31.0"  # the version docs/operations.md names
KUSTOMIZE = LOCAL / "bin" / "kustomize"
NODE_MODULES = LOCAL / "node"
OVERLAYS = ("dev", "prod")
STRIMZI = "kafka.strimzi.io/"
PROCESSES = [(service, role) for service in Services.ALL for role in ("api", "worker")]
DATA = "/var/lib/motcua"
# Validates the Strimzi objects of a JSON file (argv) with their published models.
STRIMZI_CHECK = """
import { readFileSync } from "node:fs";
const failures = [];
for (const doc of JSON.parse(readFileSync(process.argv[1], "utf8"))) {
  const [group, version] = doc.apiVersion.split("/");
  const models = await import(`@kubernetes-models/strimzi-kafka-operator/${group}/${version}/${doc.kind}`);
  try { new models[doc.kind](doc).validate(); }
  catch (error) { failures.push(`${doc.kind} ${doc.metadata.name}: ${error.message}`); }
}
console.log(JSON.stringify(failures));
"""


def render(overlay: str) -> list[dict[str, Any]]:
    assert KUSTOMIZE.is_file(), "`make install` builds kustomize into .local/bin"
    built = subprocess.run(
        [str(KUSTOMIZE), "build", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


RENDERED = {overlay: render(overlay) for overlay in OVERLAYS}


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in RENDERED[overlay] if doc["kind"] == kind}


def strimzi_failures(docs: list[dict[str, Any]], tmp_path: Path) -> list[str]:
    assert (NODE_MODULES / "node_modules" / "@kubernetes-models" / "strimzi-kafka-operator").is_dir(), (
        "`make install` installs the Strimzi models into .local/node"
    )
    listed = tmp_path / "strimzi.json"
    listed.write_text(json.dumps(docs), encoding="utf-8")
    checked = subprocess.run(
        ["node", "--input-type=module", "-e", STRIMZI_CHECK, str(listed)],
        cwd=NODE_MODULES,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    failures: list[str] = json.loads(checked.stdout)
    return failures


def test_the_generated_base_is_current():
    for name, text in manifests.files().items():
        assert (manifests.BASE / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run `python -m devstack manifests`"
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_passes_its_schema(overlay, tmp_path):
    builtin = [doc for doc in RENDERED[overlay] if not doc["apiVersion"].startswith(STRIMZI)]
    for doc in builtin:
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{doc['kind']} {doc['apiVersion']}: no schema in Kubernetes {KUBERNETES}")
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {error.message} at {list(error.path)}")
    strimzi = [doc for doc in RENDERED[overlay] if doc["apiVersion"].startswith(STRIMZI)]
    assert {doc["kind"] for doc in strimzi} == {"Kafka", "KafkaNodePool", "KafkaTopic"}
    assert strimzi_failures(strimzi, tmp_path) == []


def test_a_wrong_object_is_refused_by_both_validators(tmp_path):
    deployment = json.loads(json.dumps(objects("prod", "Deployment")["intake-api"]))
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)
    topic = json.loads(json.dumps(next(iter(objects("prod", "KafkaTopic").values()))))
    topic["spec"]["partitions"] = "three"
    [failure] = strimzi_failures([topic], tmp_path)
    assert "partitions" in failure


@pytest.mark.parametrize(("overlay", "replicas", "in_sync"), [("dev", 1, 1), ("prod", 3, 2)])
def test_the_topics_are_the_registry_s(overlay, replicas, in_sync):
    topics = {doc["spec"]["topicName"]: doc["spec"] for doc in objects(overlay, "KafkaTopic").values()}
    registry = {spec.name: spec for spec in all_topic_specs()}
    assert set(topics) == set(registry)
    for name, spec in registry.items():
        assert topics[name]["partitions"] == spec.partitions, name
        assert topics[name]["replicas"] == replicas, name
        assert topics[name]["config"] == {**spec.configs, "min.insync.replicas": in_sync}, name
    kafka = objects(overlay, "Kafka")["motcua"]["spec"]["kafka"]["config"]
    assert (kafka["default.replication.factor"], kafka["min.insync.replicas"]) == (replicas, in_sync)
    assert objects(overlay, "KafkaNodePool")["dual"]["spec"]["replicas"] == replicas
    config = objects(overlay, "ConfigMap")["motcua-config"]["data"]
    assert (config["KAFKA_REPLICATION_FACTOR"], config["KAFKA_MIN_INSYNC_REPLICAS"]) == (
        str(replicas),
        str(in_sync),
    )


def _secret_value(overlay: str, ref: dict[str, str]) -> str:
    """A Secret's value where the overlay makes it (dev); in prod the cluster's operators make them,
    so a stand-in of the right shape."""
    secret = objects(overlay, "Secret").get(ref["name"])
    if secret is not None:
        return base64.b64decode(secret["data"][ref["key"]]).decode()
    if ref["name"].startswith("motcua-mongo-"):
        return "mongodb://user:password@mongo-0.mongo:27017/?replicaSet=rs0"
    if ref["name"] == "motcua-smtp":
        return "smtp://smtp.example.vn:587"
    return "secret"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize(("service", "role"), PROCESSES)
def test_each_deployment_environment_is_one_its_service_accepts(
    overlay, service, role, tmp_path, signing_certs
):
    deployment = objects(overlay, "Deployment")[f"{service}-{role}"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"] == [service, role]
    env = dict(objects(overlay, "ConfigMap")["motcua-config"]["data"])
    for item in container["env"]:
        env[item["name"]] = item.get("value") or _secret_value(overlay, item["valueFrom"]["secretKeyRef"])
    mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
    # The container's data folder, its volumes mounted there, stands at a folder of the test's.
    for path in mounted:
        if path.startswith(DATA):
            (tmp_path / path.removeprefix(DATA + "/")).mkdir(parents=True, exist_ok=True)
    local = {name: value.replace(DATA, str(tmp_path)) for name, value in env.items()}
    config = importlib.import_module(f"{service}.config").load_config(worker=role == "worker", environ=local)
    assert config.mongo_url == env["MONGO_URL"] and config.kafka_bootstrap == "motcua-kafka-bootstrap:9092"
    if "intake" in manifests.CALLS[service]:  # the counter and online filings
        assert env["INTAKE_API_URL"] == "http://intake-api", "filings reach intake inside the cluster"
    blob = env[manifests.BLOB_VARIABLE[service]].removeprefix("file://")
    assert blob in mounted, f"{service}'s blob store is its volume"
    if service in manifests.SIGNERS:
        assert env["SIGNING_CERTS_DIR"] in mounted
    if service == "portal":
        # Read by the portal's pages, not its load_config: the signature check's trust roots are
        # the CA file of the signing Secret, mounted where the variable points.
        [volume] = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "signing"]
        [mount] = [m for m in container["volumeMounts"] if m["name"] == "signing"]
        files = {item["path"] for item in volume["secret"]["items"]}
        assert env["SIGNING_TRUST_ROOTS"] == f"{mount['mountPath']}/ca.pem" and files == {"ca.pem"}
        ca = tmp_path / "signing" / "ca.pem"
        ca.write_bytes((signing_certs / "ca.pem").read_bytes())
        assert load_trust_roots(local["SIGNING_TRUST_ROOTS"]), "the portal reads the mounted CA"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_process_has_probes_limits_and_a_disruption_budget(overlay):
    deployments = objects(overlay, "Deployment")
    budgets, autoscalers = (
        objects(overlay, "PodDisruptionBudget"),
        objects(overlay, "HorizontalPodAutoscaler"),
    )
    for service, role in PROCESSES:
        name = f"{service}-{role}"
        spec = deployments[name]["spec"]["template"]["spec"]
        [container] = spec["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and container["resources"][
            "limits"
        ]
        assert (
            spec["securityContext"]["runAsNonRoot"] is True
            and container["securityContext"]["readOnlyRootFilesystem"]
        )
        assert name in budgets, name
        if role == "api":
            assert autoscalers[name]["spec"]["scaleTargetRef"]["name"] == name


def test_each_service_reaches_only_what_it_needs():
    policies = objects("prod", "NetworkPolicy")
    assert set(policies) == set(Services.ALL)
    for service in Services.ALL:
        egress = policies[service]["spec"]["egress"]
        reached = {
            json.dumps(peer["podSelector"]["matchLabels"], sort_keys=True)
            for rule in egress
            for peer in rule.get("to", [])
            if "podSelector" in peer
        }
        assert json.dumps({"strimzi.io/cluster": "motcua"}) in reached, service
        assert json.dumps({"app.kubernetes.io/name": "mongo"}) in reached, service
        called = {
            service_name for service_name in Services.ALL if any(f'"{service_name}"' in r for r in reached)
        }
        assert called == set(manifests.CALLS[service]), service
        anywhere = [rule for rule in egress if "to" not in rule]
        ports = {port["port"] for rule in anywhere for port in rule["ports"]}
        assert ports == {"notify": {25, 465, 587}, "processing": {443}}.get(service, set()), service


def test_the_ingress_routes_the_portal_the_console_and_each_api():
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for ingress in objects("prod", "Ingress").values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes == {
        "/": "portal-api",
        "/console": "processing-api",
        "/.well-known/jwks.json": "processing-api",
        "/intake(/|$)(.*)": "intake-api",
        "/processing(/|$)(.*)": "processing-api",
        "/notify(/|$)(.*)": "notify-api",
    }
    hosts = {
        rule["host"] for ingress in objects("prod", "Ingress").values() for rule in ingress["spec"]["rules"]
    }
    config = objects("prod", "ConfigMap")["motcua-config"]["data"]
    assert {config["PORTAL_URL"].removeprefix("https://")} == hosts
    assert config["INTAKE_URL"] == config["PORTAL_URL"] + "/intake"


def test_the_generator_runs_as_a_command(tmp_path):
    written = subprocess.run(
        [sys.executable, "-m", "devstack", "manifests", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(manifests.files())


def test_the_development_signing_secret_holds_every_file_the_deployments_mount(tmp_path):
    secret = manifests.signing_secret(tmp_path / "signing")
    kubernetes_validate.validate(secret, KUBERNETES, strict=True)
    assert "ca-key.pem" not in secret["data"], "the CA's key never goes to a cluster"
    for name in ("processing-api", "notify-worker", "portal-api"):
        volumes = objects("dev", "Deployment")[name]["spec"]["template"]["spec"]["volumes"]
        [signing] = [volume for volume in volumes if volume["name"] == "signing"]
        wanted = {item["key"] for item in signing["secret"]["items"]}
        assert wanted <= set(secret["data"]), sorted(wanted - set(secret["data"]))[:3]
        assert (len(wanted) > 1) == (name != "portal-api"), "the portal gets the CA alone"
    key = base64.b64decode(secret["data"][manifests.signing_key("units/09496/key.pem")])
    assert key == (tmp_path / "signing" / "units" / "09496" / "key.pem").read_bytes()
