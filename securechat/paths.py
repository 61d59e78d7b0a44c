"""Where securechat keeps its files, and how it writes them privately.

The home directory is `platformdirs.user_data_dir("securechat")`, or `$SECURECHAT_HOME` when
set (tests, portable installs, several identities on one machine). Profiles live in
`<home>/profiles/<name>/`.

Invariants:
- Importing this module creates nothing; directories appear only when a profile is made.
- Every directory securechat creates is mode 0700 and every file 0600: creation happens under
  `os.umask(0o077)` and the mode is then set explicitly (umask alone can be loosened by ACLs
  or an inherited directory mode).
- `write_private_atomic` never leaves a half-written file behind: it writes a temporary file
  in the same directory, fsyncs it, renames it over the target and fsyncs the directory.
  `staged_private_file` does the same around a block of the caller's (say, a database
  commit): the file appears only if the block succeeds; otherwise the temporary file is
  removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "DIR_MODE",
    "FILE_MODE",
    "HOME_ENV",
    "ensure_private_dir",
    "home_dir",
    "private_umask",
    "profiles_dir",
    "staged_private_file",
    "write_private_atomic",
]

APP_NAME = "securechat"
HOME_ENV = "SECURECHAT_HOME"
DIR_MODE = 0o700
FILE_MODE = 0o600


def home_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The securechat home: `override`, else `$SECURECHAT_HOME`, else the platform data dir.

    Nothing is created.
    """
    if override is not None:
        return Path(override).expanduser().absolute()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().absolute()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)).absolute()


def profiles_dir(home: Path) -> Path:
    """The folder holding one sub-folder per profile. Nothing is created."""
    return home / "profiles"


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Run the body with umask 0o077, restoring the previous umask afterwards."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed; the leaf is chmod-ed to 0700.

    Raises:
        OSError: the directory cannot be created.
    """
    with private_umask():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_private_file(path: Path, data: bytes) -> Iterator[None]:
    """Write `data` to a temporary 0600 file beside `path`, run the body, then rename the
    file into place; if writing or the body fails, remove it and leave `path` untouched.

    Raises:
        OSError: the file cannot be written or renamed.
        whatever the body raises.
    """
    with private_umask():
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        yield
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.chmod(path, FILE_MODE)
    _fsync_dir(path.parent)


def write_private_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically with mode 0600.

    Raises:
        OSError: the file cannot be written; the old content (if any) is untouched.
    """
    with staged_private_file(path, data):
        pass
