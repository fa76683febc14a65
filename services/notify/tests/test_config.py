"""Notify's settings: the relay and portal URLs checked at start."""

import pytest

from eventkit.config import ConfigError
from notify.config import load_config

BASE = {"MONGO_URL": "mongodb://127.0.0.1:1/", "JWT_PUBLIC_KEY": "k", "BLOB_URL": "file:///tmp/notify-blobs"}


def test_defaults_and_overrides():
    config = load_config(environ=BASE)
    assert config.smtp_url == "smtp://127.0.0.1:1025" and config.unit_rate_per_minute == 0
    config = load_config(
        environ={
            **BASE,
            "SMTP_URL": "smtps://u:p@relay.example.vn:465",
            "PORTAL_URL": "https://dvc.example.vn/",
            "UNIT_EMAIL_RATE_PER_MINUTE": "30",
        }
    )
    assert config.portal_url == "https://dvc.example.vn" and config.unit_rate_per_minute == 30
    assert (config.postal_cutoff.isoformat(), config.postal_hmac_key) == ("16:00:00", b"")
    postal = load_config(
        environ={**BASE, "POSTAL_CUTOFF": "15:30", "POSTAL_HMAC_KEY": "k1", "NOTIFY_BLOB_URL": "file:///n"}
    )
    assert (postal.postal_cutoff.isoformat(), postal.postal_hmac_key, postal.blob_url) == (
        "15:30:00",
        b"k1",
        "file:///n",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMTP_URL", "http://relay"),
        ("PORTAL_URL", "dvc.example.vn"),
        ("SEND_BATCH", "many"),
        ("EMAIL_TEMPLATES_DIR", "/no/such/dir"),
        ("SEND_INTERVAL_SECONDS", "0"),
        ("POSTAL_CUTOFF", "4 giờ chiều"),
        ("POSTAL_BATCH_SECONDS", "0"),
        ("SIGNING_CERTS_DIR", "/no/such/dir"),
    ],
)
def test_a_bad_value_stops_the_start_naming_it(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config(environ={**BASE, name: value})


def test_without_a_blob_store_notify_does_not_start():
    with pytest.raises(ConfigError, match="BLOB_URL"):
        load_config(environ={k: v for k, v in BASE.items() if k != "BLOB_URL"})


def test_make_run_points_notify_at_the_portal_and_mailpit(tmp_path, monkeypatch):
    from devstack.run import Endpoints, ports_from_env, service_env

    monkeypatch.delenv("PORTAL_URL", raising=False)
    endpoints = Endpoints("mongodb://127.0.0.1:1/", "127.0.0.1:1", "smtp://127.0.0.1:2525", None)
    public_key = tmp_path / "jwt-public.pem"
    public_key.write_text("k")
    env = service_env(endpoints, ports_from_env({"PORTAL_PORT": "8100"}), public_key, tmp_path)
    config = load_config(environ=env)
    assert config.portal_url == "http://127.0.0.1:8100"
    assert config.smtp_url == "smtp://127.0.0.1:2525"
    assert config.blob_url == (tmp_path / "blobs" / "notify").as_uri() and config.postal_hmac_key
