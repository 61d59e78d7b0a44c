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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate", "inf"),
        ("rate", "nan"),
        ("heartbeat", "inf"),
        ("heartbeat", "1e-9"),
        ("message_ttl", "99999999999999999999"),
        ("queue_quota", "99999999999999999999"),
        ("max_frame", "99999999999999999999"),
        ("switch_interval", "2"),
    ],
)
def test_values_past_a_sane_range_are_refused(name: str, value: str) -> None:
    """Huge, infinite, NaN and vanishing values are refused at load time, naming the setting
    and its range: past the bounds they used to start a relay that failed every connection."""
    with pytest.raises(ConfigError, match=f"^{name} must be between "):
        load_config(None, {f"SECURECHAT_RELAY_{name.upper()}": value})


def test_the_bench_and_test_settings_are_in_range() -> None:
    """The generous limits the benchmark and the tests use stay valid."""
    load_config(
        None,
        {},
        {
            "rate": 1_000_000.0,
            "burst": 1_000_000,
            "max_queues_per_conn": 1_000_000,
            "queue_quota": 100_000,
            "heartbeat": 0.2,
            "idle_timeout": 0.4,
            "sweep_interval": 0.05,
            "message_ttl": 1,
        },
    )


def test_settings_outside_the_relay_table_are_refused(tmp_path: Path) -> None:
    """With a [relay] table, a top-level setting would be ignored: it is an error instead."""
    f = tmp_path / "c.toml"
    f.write_text('port = 9001\n[relay]\nhost = "127.0.0.1"\n')
    with pytest.raises(ConfigError, match=r"'port' .* outside the \[relay\] table"):
        load_config(f)
    f.write_text('[relay]\nhost = "127.0.0.1"\nport = 9001\n')
    assert load_config(f).port == 9001
