"""`Service` satisfies the `ServiceAPI` protocol, checked by mypy --strict."""

from __future__ import annotations

from pathlib import Path

from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = """
from securechat.api import ServiceAPI
from securechat.service import Service

_: ServiceAPI = Service(None)
"""


def test_service_satisfies_the_protocol(tmp_path: Path) -> None:
    """mypy --strict accepts `_: ServiceAPI = Service(...)` (and would reject a drifted API)."""
    module = tmp_path / "check_service_api.py"
    module.write_text(SNIPPET)
    out, err, status = mypy_api.run(
        ["--strict", "--config-file", str(ROOT / "pyproject.toml"), str(module)]
    )
    assert status == 0, out + err


def test_secret_holders_print_redacted() -> None:
    """Objects that hold plaintext, keys or queue ids print `<redacted>`."""
    from crypto.envelope import Text
    from securechat import api
    from securechat.conversations import IntakeInfo, OutItem, SendRequest
    from securechat.listing import QueueAddress

    samples = [
        SendRequest(1, Text("very private"), api.MessageKind.TEXT, {"text": "very private"}),
        OutItem(1, b"s" * 16, b"envelope", b"k" * 32),
        IntakeInfo("ws://127.0.0.1:1/ws", None, b"k" * 32, b"r" * 16, b"k" * 32, b"s" * 16, 1),
        QueueAddress(b"s" * 16, b"k" * 32),
    ]
    for sample in samples:
        text = repr(sample)
        assert "<redacted>" in text
        for secret in ("very private", "127.0.0.1", "kkkk", "ssss"):
            assert secret not in text
