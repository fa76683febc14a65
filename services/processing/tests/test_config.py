"""Processing's settings: its own blob store, required by the API, and the result file limit."""

from pathlib import Path

import pytest

from devstack.run import Endpoints, ports_from_env, service_env
from eventkit.config import ConfigError
from processing.config import load_config

BASE = {"MONGO_URL": "mongodb://127.0.0.1:1/", "JWT_PUBLIC_KEY": "k"}


def test_the_api_does_not_start_without_a_blob_store():
    with pytest.raises(ConfigError, match="BLOB_URL"):
        load_config(environ=BASE)


def test_the_worker_and_the_tools_need_no_blob_store():
    assert load_config(worker=True, environ={**BASE, "KAFKA_BOOTSTRAP_SERVERS": "x:1"}).blob_url == ""
    assert load_config(auth=False, environ={"MONGO_URL": BASE["MONGO_URL"]}).blob_url == ""


def test_processings_own_blob_url_wins_over_the_shared_one():
    shared = {**BASE, "BLOB_URL": "file:///srv/blobs"}
    assert load_config(environ=shared).blob_url == "file:///srv/blobs"
    own = {**shared, "PROCESSING_BLOB_URL": "file:///srv/processing"}
    assert load_config(environ=own).blob_url == "file:///srv/processing"


def test_the_result_file_limit_is_read_from_the_environment():
    environ = {**BASE, "BLOB_URL": "file:///srv/blobs"}
    assert load_config(environ=environ).upload_max_bytes == 20 * 1024 * 1024
    assert load_config(environ={**environ, "UPLOAD_MAX_BYTES": "1000"}).upload_max_bytes == 1000
    with pytest.raises(ConfigError):
        load_config(environ={**environ, "UPLOAD_MAX_BYTES": "many"})


def test_make_run_gives_each_service_its_own_blob_folder(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("BLOB_URL", raising=False)
    monkeypatch.delenv("PROCESSING_BLOB_URL", raising=False)
    endpoints = Endpoints("mongodb://127.0.0.1:1/", "127.0.0.1:1", "smtp://127.0.0.1:1", None)
    public_key = tmp_path / "jwt-public.pem"
    public_key.write_text("k")
    env = service_env(endpoints, ports_from_env({}), public_key, tmp_path)

    processing = load_config(environ=env).blob_url
    assert env["BLOB_URL"] == (tmp_path / "blobs" / "intake").as_uri()
    assert processing == (tmp_path / "blobs" / "processing").as_uri() != env["BLOB_URL"]


def test_the_attached_result_limit_fits_the_results_topic():
    environ = {**BASE, "BLOB_URL": "file:///srv/blobs"}
    assert load_config(environ=environ).result_attach_max_bytes == 5 * 1024 * 1024
    assert load_config(environ={**environ, "RESULT_ATTACH_MAX_BYTES": "0"}).result_attach_max_bytes == 0
    for bad in ("many", "-1", str(6 * 1024 * 1024)):  # 6 MiB in base64 (8 MiB) would not fit the records
        with pytest.raises(ConfigError, match="RESULT_ATTACH_MAX_BYTES"):
            load_config(environ={**environ, "RESULT_ATTACH_MAX_BYTES": bad})


def test_the_counter_calls_intake_at_its_internal_address_and_links_to_the_public_one():
    environ = {**BASE, "BLOB_URL": "file:///srv/blobs", "INTAKE_URL": "https://motcua.example/intake/"}
    config = load_config(environ=environ)
    assert (config.intake_url, config.intake_api_url) == (
        "https://motcua.example/intake",
        "https://motcua.example/intake",
    ), "one address serves both unless told"
    inside = load_config(environ={**environ, "INTAKE_API_URL": "http://intake-api:8000/"})
    assert (inside.intake_url, inside.intake_api_url) == (
        "https://motcua.example/intake",
        "http://intake-api:8000",
    )
    with pytest.raises(ConfigError, match="INTAKE_API_URL"):
        load_config(environ={**environ, "INTAKE_API_URL": "intake-api:8000"})


def test_the_console_links_to_notify_at_notify_url(tmp_path: Path, monkeypatch):
    environ = {**BASE, "BLOB_URL": "file:///srv/blobs"}
    assert load_config(environ=environ).notify_url == ""
    assert (
        load_config(environ={**environ, "NOTIFY_URL": "http://notify:8003/"}).notify_url
        == "http://notify:8003"
    )
    with pytest.raises(ConfigError, match="NOTIFY_URL"):
        load_config(environ={**environ, "NOTIFY_URL": "notify:8003"})
    monkeypatch.delenv("NOTIFY_URL", raising=False)
    monkeypatch.delenv("JWT_JWKS_URL", raising=False)
    endpoints = Endpoints("mongodb://127.0.0.1:1/", "127.0.0.1:1", "smtp://127.0.0.1:1", None)
    public_key = tmp_path / "jwt-public.pem"
    public_key.write_text("k")
    env = service_env(endpoints, ports_from_env({}), public_key, tmp_path)
    # make run: the console links to notify, and intake trusts the staff tokens processing signs.
    assert env["NOTIFY_URL"] == "http://127.0.0.1:8003"
    assert env["JWT_JWKS_URL"] == "http://127.0.0.1:8002/.well-known/jwks.json"


def test_make_run_points_the_other_services_at_processings_key_set_and_processing_at_notify(
    tmp_path: Path, monkeypatch
):
    for name in ("JWT_JWKS_URL", "NOTIFY_URL"):
        monkeypatch.delenv(name, raising=False)
    ports = ports_from_env({})
    env = service_env(Endpoints("mongodb://m/", "k:1", "smtp://s", None), ports, tmp_path / "k.pem", tmp_path)
    assert env["JWT_JWKS_URL"] == "http://127.0.0.1:8002/.well-known/jwks.json"
    assert load_config(environ={**env, "JWT_PUBLIC_KEY": "k"}).notify_url == "http://127.0.0.1:8003"
    # Processing verifies its tokens with its own keys, never by asking itself over HTTP.
    assert load_config(environ={**env, "JWT_PUBLIC_KEY": "k"}).jwt_jwks_url is None


def test_single_sign_on_is_configured_whole_or_not_at_all():
    environ = {**BASE, "BLOB_URL": "file:///srv/blobs"}
    assert load_config(environ=environ).oidc_issuer_url == ""
    oidc = {
        "OIDC_ISSUER_URL": "https://sso.example.vn/realms/lt/",
        "OIDC_CLIENT_ID": "c",
        "OIDC_CLIENT_SECRET": "s",
    }
    config = load_config(environ={**environ, **oidc})
    assert (config.oidc_issuer_url, config.oidc_username_claim) == (
        "https://sso.example.vn/realms/lt",
        "preferred_username",
    )
    with pytest.raises(ConfigError, match="OIDC_CLIENT_SECRET"):
        load_config(environ={**environ, **oidc, "OIDC_CLIENT_SECRET": ""})
    with pytest.raises(ConfigError, match="NOTIFY_URL"):
        load_config(environ={**environ, "NOTIFY_URL": "notify:8003"})
