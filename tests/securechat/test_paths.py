"""Tests for securechat.paths: home resolution, private modes, atomic writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from securechat import paths, profiles
from tests.securechat.conftest import PASSPHRASE, fast_kdf

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_home_env_override(home: Path) -> None:
    """SECURECHAT_HOME decides the home directory, and resolving it creates nothing."""
    assert paths.home_dir() == home.absolute()
    assert not home.exists()


def test_import_creates_nothing(tmp_path: Path) -> None:
    """Importing the core and the CLI creates no directory in the home."""
    target = tmp_path / "untouched"
    env = {**os.environ, "SECURECHAT_HOME": str(target)}
    subprocess.run(
        [sys.executable, "-c", "import securechat.profiles, securechat.cli, securechat.notes"],
        check=True,
        cwd=ROOT,
        env=env,
    )
    assert not target.exists()


def test_profile_files_0600_dirs_0700(home: Path) -> None:
    """Every directory of a profile is 0700 and every file 0600, even under a loose umask."""
    old = os.umask(0o022)
    try:
        with profiles.create_profile(
            "ayu", "client", "Ayu", PASSPHRASE, home=home, kdf=fast_kdf()
        ) as profile:
            profile.store.set_setting("x", "y")
            profiles.change_passphrase(profile, "another passphrase", kdf=fast_kdf())
    finally:
        os.umask(old)
    for path in [home, *home.rglob("*")]:
        if path.is_dir():
            assert _mode(path) == 0o700, path
        else:
            assert _mode(path) == 0o600, path


def test_write_private_atomic_replaces_and_is_0600(tmp_path: Path) -> None:
    """An atomic write replaces old content, leaves no temp file and sets 0600."""
    target = tmp_path / "f.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    paths.write_private_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
