"""Notes never travel to the network: nothing in securechat.notes imports networking code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NETWORKING = {
    "socket",
    "ssl",
    "http",
    "urllib",
    "asyncio",
    "aiohttp",
    "websockets",
    "requests",
    "relay",
    "smtplib",
    "ftplib",
}


def test_notes_package_imports_no_networking() -> None:
    """No module of securechat.notes names a networking module in an import statement."""
    for path in (ROOT / "securechat" / "notes").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in NETWORKING, f"{path.name} imports {name}"


def test_notes_do_not_load_networking_transitively() -> None:
    """Importing securechat.notes loads no relay or HTTP client module, directly or not."""
    code = (
        "import sys, securechat.notes\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'relay', 'aiohttp', 'websockets', 'requests', 'http', 'urllib3'}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == ""
