"""Relay configuration: safe defaults, then a TOML file, then environment, then flags.

Every limit has a default that is safe to expose to the internet. A TOML file may hold the
keys at top level or under ``[relay]``; the environment uses ``SECURECHAT_RELAY_<KEY>``
(upper case); command-line flags win over both. Unknown keys are errors (a typo must not
silently fall back to a default), and every value is checked by `RelayConfig.validate`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relay.exceptions import ConfigError
from relay.protocol import CodecLimits

__all__ = ["ENV_PREFIX", "RelayConfig", "load_config"]

ENV_PREFIX = "SECURECHAT_RELAY_"
_KiB = 1024


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """Everything the server needs; see docs/self-hosting.md for what each limit protects."""

    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Path | None = None
    port_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: str = "INFO"
    # wire limits
    max_frame: int = 256 * _KiB
    max_batch: int = 64
    max_body: int = 64 * _KiB
    max_blob: int = 64 * _KiB
    max_summary: int = 2 * _KiB
    max_prekeys: int = 200  # unused one-time prekeys held per publication
    # One-time prekeys FETCH hands out per publication: `prekey_burst` at once, then
    # `prekeys_per_hour`. Past that a FETCH still answers, without a one-time prekey, so
    # nobody can use up a counselor's stock by fetching it over and over.
    prekeys_per_hour: float = 60.0
    prekey_burst: int = 20
    # queues and delivery
    queue_quota: int = 1000  # messages held per queue
    message_ttl: int = 21 * 86400  # seconds
    sweep_interval: float = 60.0
    window: int = 8  # un-acknowledged messages pushed per subscription
    # per connection
    max_queues_per_conn: int = 256
    max_pubs_per_conn: int = 8
    max_subs_per_conn: int = 4096
    rate: float = 1000.0  # commands per second, sustained
    burst: int = 2000  # commands allowed at once
    max_connections: int = 20000
    heartbeat: float = 30.0
    idle_timeout: float = 300.0  # close a connection with no subscription and no command
    # process
    shutdown_timeout: float = 10.0
    sync: str = "FULL"  # SQLite synchronous: FULL (durable on power loss) or NORMAL
    store_batch: int = 1024
    switch_interval: float = 0.0005  # seconds; see relay.cli (GIL hand-off to the writer)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def codec_limits(self) -> CodecLimits:
        """The codec limits these settings imply."""
        return CodecLimits(
            max_frame=self.max_frame,
            max_batch=self.max_batch,
            max_body=self.max_body,
            max_blob=self.max_blob,
            max_summary=self.max_summary,
            max_prekeys=min(self.max_prekeys, 1000),
        )

    def validate(self) -> RelayConfig:
        """Return self if every value is in range.

        Raises:
            ConfigError: naming the first bad setting.
        """
        if not 0 <= self.port <= 65535:
            raise ConfigError("port must be between 0 and 65535")
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:  # also refuses NaN, which compares false
                raise ConfigError(f"{name} must be between {low:g} and {high:g}")
        if self.max_body + 1024 > self.max_frame or self.max_blob + 1024 > self.max_frame:
            raise ConfigError("max_frame must exceed max_body and max_blob by at least 1024")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("tls_cert and tls_key must be given together")
        if self.sync.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ConfigError("sync must be FULL, NORMAL or EXTRA")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return self


_FIELDS = {f.name: f for f in dataclasses.fields(RelayConfig) if f.name != "extra"}

# Allowed range of every numeric setting. The upper bounds are far above any sensible value;
# they exist because a value past them (an integer too big for the wire or the database,
# infinity) does not fail at start-up but later, in every connection.
_MiB = 1024 * _KiB
_DAY = 86400.0
_RANGES: dict[str, tuple[float, float]] = {
    "max_frame": (1, 64 * _MiB),
    "max_batch": (1, 100_000),
    "max_body": (1, 64 * _MiB),
    "max_blob": (1, 64 * _MiB),
    "max_summary": (1, 1 * _MiB),
    "max_prekeys": (1, 100_000),
    "prekeys_per_hour": (0.001, 1e9),
    "prekey_burst": (1, 1_000_000),
    "queue_quota": (1, 100_000_000),
    "message_ttl": (1, 3650 * _DAY),
    "sweep_interval": (0.001, _DAY),
    "window": (1, 1_000_000),
    "max_queues_per_conn": (1, 100_000_000),
    "max_pubs_per_conn": (1, 1_000_000),
    "max_subs_per_conn": (1, 100_000_000),
    "rate": (0.001, 1e9),
    "burst": (1, 1_000_000_000),
    "max_connections": (1, 10_000_000),
    "heartbeat": (0.1, _DAY),
    "idle_timeout": (0.1, 365 * _DAY),
    "shutdown_timeout": (0.001, _DAY),
    "store_batch": (1, 1_000_000),
    "switch_interval": (0.000_001, 1.0),
}


def _convert(name: str, value: Any) -> Any:
    kind = str(_FIELDS[name].type)
    try:
        if "Path" in kind:
            return None if value in (None, "") else Path(str(value)).expanduser()
        if kind == "int":
            if isinstance(value, bool | float):
                raise ValueError
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if not isinstance(value, str):
            raise ValueError
        return value
    except (TypeError, ValueError):
        raise ConfigError(f"{name} has a value of the wrong type") from None


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RelayConfig:
    """Build a validated config from defaults < TOML file `path` < `env` < `overrides`.

    `overrides` values of None are ignored (flags not given).

    Raises:
        ConfigError: unreadable or malformed file, unknown key, bad value.
    """
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from exc
        table = data.get("relay", data)
        if not isinstance(table, dict):
            raise ConfigError("[relay] must be a table")
        if table is not data:
            outside = sorted(k for k in data if k != "relay")
            if outside:  # they would be ignored: say so rather than fall back to defaults
                raise ConfigError(
                    f"setting {outside[0]!r} in {path} is outside the [relay] table; "
                    "put every setting under [relay], or none"
                )
        for key, value in table.items():
            if key == "relay":
                continue
            if key not in _FIELDS:
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[key] = _convert(key, value)
    for key, value in (env or {}).items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in _FIELDS:
            raise ConfigError(f"unknown setting in environment variable {key}")
        values[name] = _convert(name, value)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = _convert(key, value)
    return RelayConfig(**values).validate()
