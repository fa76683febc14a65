import pytest

from eventkit.config import ConfigError, ServiceConfig

BASE = {"MONGO_URL": "mongodb://db/", "JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----"}


def test_defaults_and_overrides_come_from_the_environment():
    config = ServiceConfig.from_env("intake", default_health_port=9001, environ={**BASE, "MONGO_DB": "x"})
    assert (config.mongo_db, config.health_port, config.kafka_bootstrap) == ("x", 9001, None)
    assert ServiceConfig.from_env("intake", environ=BASE).mongo_db == "motcua_intake"


def test_missing_required_values_are_all_named():
    with pytest.raises(ConfigError) as error:
        ServiceConfig.from_env("intake", worker=True, environ={})
    message = str(error.value)
    assert (
        "MONGO_URL" in message and "KAFKA_BOOTSTRAP_SERVERS" in message and "JWT_PUBLIC_KEY_FILE" in message
    )


def test_the_api_does_not_need_kafka_but_the_worker_does():
    ServiceConfig.from_env("portal", environ=BASE)
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        ServiceConfig.from_env("portal", worker=True, environ=BASE)


def test_a_public_key_file_is_read_and_a_missing_one_fails(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("PEM")
    env = {"MONGO_URL": "mongodb://db/", "JWT_PUBLIC_KEY_FILE": str(key)}
    assert ServiceConfig.from_env("notify", environ=env).jwt_public_key == "PEM"
    with pytest.raises(ConfigError, match="does not exist"):
        ServiceConfig.from_env("notify", environ={**env, "JWT_PUBLIC_KEY_FILE": str(tmp_path / "none")})


def test_a_non_numeric_port_is_a_config_error():
    with pytest.raises(ConfigError):
        ServiceConfig.from_env("notify", environ={**BASE, "HEALTH_PORT": "abc"})


def test_a_command_line_tool_may_go_without_the_token_settings():
    config = ServiceConfig.from_env("processing", auth=False, environ={"MONGO_URL": "mongodb://db/"})
    assert config.jwt_public_key is None and config.jwt_jwks_url is None
