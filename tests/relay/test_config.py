"""Configuration: defaults, TOML file, environment and flags, in that order of precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.config import RelayConfig, load_config
from relay.exceptions import ConfigError


def test_defaults_are_valid_and_safe() -> None:
    """Defaults validate and bound every resource."""
    cfg = load_config()
    assert cfg == RelayConfig().validate()
    assert cfg.host == "127.0.0.1"
    assert cfg.max_frame <= 1024 * 1024
    assert cfg.queue_quota
    assert cfg.message_ttl
    assert cfg.rate
    assert cfg.max_connections
    assert cfg.sync == "FULL"


def test_precedence(tmp_path: Path) -> None:
    """Flags beat environment, which beats the file, which beats defaults."""
    f = tmp_path / "c.toml"
    f.write_text("window = 2\nqueue_quota = 3\nrate = 10\n")
    env = {"SECURECHAT_RELAY_QUEUE_QUOTA": "4", "SECURECHAT_RELAY_RATE": "20.5", "OTHER": "x"}
    cfg = load_config(f, env, {"rate": 30.0, "port": None})
    assert (cfg.window, cfg.queue_quota, cfg.rate, cfg.port) == (2, 4, 30.0, 8765)


@pytest.mark.parametrize(
    "env",
    [
        {"SECURECHAT_RELAY_NOPE": "1"},
        {"SECURECHAT_RELAY_PORT": "eighty"},
        {"SECURECHAT_RELAY_WINDOW": "0"},
        {"SECURECHAT_RELAY_MAX_BODY": "300000"},
        {"SECURECHAT_RELAY_SYNC": "OFF"},
    ],
)
def test_bad_environment(env: dict[str, str]) -> None:
    """Unknown names, wrong types and out-of-range values in the environment are errors."""
    with pytest.raises(ConfigError):
        load_config(None, env)


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing config file is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_paths_and_tls_pair(tmp_path: Path) -> None:
    """Path settings become Paths; TLS cert and key go together."""
    cfg = load_config(None, {}, {"data_dir": str(tmp_path), "tls_cert": "c", "tls_key": "k"})
    assert cfg.data_dir == tmp_path
    assert cfg.tls_cert == Path("c")
    with pytest.raises(ConfigError):
        load_config(None, {}, {"tls_key": "k"})
