"""The cluster manifests' base (deploy/k8s/base), written from the sources they must agree with:
the topic registry (a Strimzi `KafkaTopic` per topic, retry and dead-letter topics included), the
services and their two process types, and the units that sign (the signing certificates' Secret
items). `python -m devstack manifests` writes them; a contract test checks they are current.

Per service: an API Deployment with its Service, HorizontalPodAutoscaler and PodDisruptionBudget,
a worker Deployment with its PodDisruptionBudget, a PersistentVolumeClaim for its blob store
shared by both, and a NetworkPolicy. The overlays (deploy/k8s/overlays/dev, prod) set what differs.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from devstack.certificates import SIGNING, ensure_unit_certificates, signing_units
from devstack.paths import ROOT
from eventkit.topics import Services, all_topic_specs

BASE = ROOT / "deploy" / "k8s" / "base"
IMAGE = "motcua"
KAFKA_CLUSTER = "motcua"
DATA = "/var/lib/motcua"
PORT = 8000
HEADER = "# Written by `python -m devstack manifests` (tools/devstack/manifests.py): edit that, not this.\n"

# What each service keeps secret, as (variable, Secret, key); every service has its own MONGO_URL
# (its own database user, allowed its own database only).
SECRETS: dict[str, list[tuple[str, str, str]]] = {
    "intake": [("MONGO_URL", "motcua-mongo-intake", "url")],
    "processing": [
        ("MONGO_URL", "motcua-mongo-processing", "url"),
        ("STAFF_KEYS_SECRET", "motcua-staff-keys", "secret"),
        ("WEB_SECRET_KEY", "motcua-web", "processing"),
    ],
    "notify": [
        ("MONGO_URL", "motcua-mongo-notify", "url"),
        ("SMTP_URL", "motcua-smtp", "url"),
        ("POSTAL_HMAC_KEY", "motcua-postal", "hmac-key"),
    ],
    "portal": [("MONGO_URL", "motcua-mongo-portal", "url"), ("WEB_SECRET_KEY", "motcua-web", "portal")],
}
BLOB_VARIABLE = {
    "intake": "BLOB_URL",
    "processing": "PROCESSING_BLOB_URL",
    "notify": "NOTIFY_BLOB_URL",
    "portal": "PORTAL_BLOB_URL",
}
# Who signs with the units' certificates (processing: results, notify: letters); the portal
# checks signatures against the CA only.
SIGNERS = ("processing", "notify")
# The API services each service calls inside the cluster.
CALLS = {
    "intake": ["processing"],  # the staff key set (JWT_JWKS_URL)
    "processing": ["intake"],  # counter filing (INTAKE_API_URL)
    "notify": ["processing"],
    "portal": ["intake", "processing"],  # filing, and the key set
}
RESOURCES = {
    "api": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
    "worker": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}},
}


def labels(service: str, role: str | None = None) -> dict[str, str]:
    found = {"app.kubernetes.io/part-of": "motcua", "motcua.vn/service": service}
    if role:
        found["motcua.vn/role"] = role
    return found


def _meta(name: str, service: str, role: str | None = None) -> dict[str, Any]:
    return {"name": name, "labels": {"app.kubernetes.io/name": name, **labels(service, role)}}


def signing_key(path: str) -> str:
    """The Secret key of a file of the certificates' folder: `units/09496/key.pem` is
    `units.09496.key.pem` (a Secret's keys are flat); the Deployments mount it back at its path."""
    return path.replace("/", ".")


def _signing_volume(service: str) -> dict[str, Any]:
    """The certificates' Secret laid out as eventkit.signing reads it (a Secret's keys are flat:
    `units.<code>.key.pem` becomes `units/<code>/key.pem`); the portal gets the CA alone."""
    items = [{"key": "ca.pem", "path": "ca.pem"}]
    if service in SIGNERS:
        for unit in signing_units():
            for name in ("key.pem", "cert.pem", "chain.pem"):
                path = f"units/{unit.code}/{name}"
                items.append({"key": signing_key(path), "path": path})
    return {
        "name": "signing",
        "secret": {"secretName": "motcua-signing-certs", "items": items, "defaultMode": 0o440},
    }


def deployment(service: str, role: str) -> dict[str, Any]:
    name = f"{service}-{role}"
    env: list[dict[str, Any]] = [
        {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for variable, secret, key in SECRETS[service]
    ]
    mounts = [
        {"name": "blobs", "mountPath": f"{DATA}/blobs/{service}"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "blobs", "persistentVolumeClaim": {"claimName": f"{service}-blobs"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    if service in (*SIGNERS, "portal"):
        mounts.append({"name": "signing", "mountPath": f"{DATA}/signing", "readOnly": True})
        volumes.append(_signing_volume(service))
    probe = {"port": "http"}
    container = {
        "name": role,
        "image": IMAGE,
        "args": [service, role],
        "ports": [{"name": "http", "containerPort": PORT}],
        "envFrom": [{"configMapRef": {"name": "motcua-config"}}],
        "env": env,
        "resources": RESOURCES[role],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", **probe},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", **probe},
            "periodSeconds": 20,
            "failureThreshold": 3,
        },
        "startupProbe": {
            "httpGet": {"path": "/healthz", **probe},
            "periodSeconds": 5,
            "failureThreshold": 24,
        },
        "volumeMounts": mounts,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, service, role),
        "spec": {
            "replicas": 2 if role == "api" else 1,
            "selector": {"matchLabels": labels(service, role)},
            "template": {
                "metadata": {
                    "labels": labels(service, role),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(PORT)},
                },
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    # Long enough for gunicorn's graceful stop and the worker's last commit.
                    "terminationGracePeriodSeconds": 40,
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def service_objects(service: str) -> list[dict[str, Any]]:
    api = f"{service}-api"
    objects = [
        deployment(service, "api"),
        deployment(service, "worker"),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(api, service, "api"),
            "spec": {
                "selector": labels(service, "api"),
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(api, service, "api"),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": api},
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(api, service, "api"),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels(service, "api")}},
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(f"{service}-worker", service, "worker"),
            # One worker may go at a time: its partitions move to the others (or wait for it).
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(service, "worker")}},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta(f"{service}-blobs", service),
            # The API and the worker read and write the same files, on different nodes.
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "20Gi"}}},
        },
        network_policy(service),
    ]
    return objects


def network_policy(service: str) -> dict[str, Any]:
    """Each service reaches Kafka, the store, the APIs it calls and DNS (notify SMTP too); its API
    is reached by the ingress controller and the services that call it."""
    egress: list[dict[str, Any]] = [
        {
            "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {
            "to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": KAFKA_CLUSTER}}}],
            "ports": [{"protocol": "TCP", "port": 9092}],
        },
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mongo"}}}],
            "ports": [{"protocol": "TCP", "port": 27017}],
        },
    ]
    for called in CALLS[service]:
        egress.append(
            {
                "to": [{"podSelector": {"matchLabels": labels(called, "api")}}],
                "ports": [{"protocol": "TCP", "port": PORT}],
            }
        )
    if service == "notify":
        egress.append(
            {
                "ports": [
                    {"protocol": "TCP", "port": 25},
                    {"protocol": "TCP", "port": 465},
                    {"protocol": "TCP", "port": 587},
                ]
            }
        )
    if service == "processing":
        # The province's identity provider (OIDC), outside the cluster.
        egress.append({"ports": [{"protocol": "TCP", "port": 443}]})
    callers = [s for s, called in CALLS.items() if service in called]
    ingress = [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
                *({"podSelector": {"matchLabels": labels(caller)}} for caller in callers),
            ],
            "ports": [{"protocol": "TCP", "port": PORT}],
        },
        # Metrics scraping and probes of every process.
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"protocol": "TCP", "port": PORT}],
        },
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(service, service),
        "spec": {
            "podSelector": {"matchLabels": labels(service)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def topics() -> list[dict[str, Any]]:
    """A KafkaTopic per topic of the registry (base: one replica; prod patches three)."""
    return [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaTopic",
            "metadata": {
                "name": spec.name.replace("_", "-"),
                "labels": {"strimzi.io/cluster": KAFKA_CLUSTER},
            },
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": 1,
                "config": {**spec.configs, "min.insync.replicas": 1},
            },
        }
        for spec in sorted(all_topic_specs(), key=lambda s: s.name)
    ]


def signing_secret(directory: Path = SIGNING) -> dict[str, Any]:
    """The `motcua-signing-certs` Secret of the development certificates (`make run`'s, made if
    missing): `python -m devstack signing-secret | kubectl apply -n motcua-dev -f -`. The CA's key
    stays out: a cluster signs with the units' keys only."""
    ensure_unit_certificates(directory)
    files = [directory / "ca.pem", *sorted((directory / "units").glob("*/*.pem"))]
    data = {
        signing_key(path.relative_to(directory).as_posix()): base64.b64encode(path.read_bytes()).decode()
        for path in files
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "motcua-signing-certs"},
        "type": "Opaque",
        "data": data,
    }


def dump(objects: Iterable[dict[str, Any]], header: str = "") -> str:
    return header + "".join("---\n" + yaml.safe_dump(o, sort_keys=False, allow_unicode=True) for o in objects)


def files() -> dict[str, str]:
    """Each generated file of the base by its name."""
    written = {f"{service}.yaml": dump(service_objects(service), HEADER) for service in Services.ALL}
    written["topics.yaml"] = dump(topics(), HEADER)
    return written


def write(base: Path = BASE) -> list[Path]:
    base.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files().items():
        path = base / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
