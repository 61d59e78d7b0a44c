"""`securechat-cli`: the headless face of the client core.

    securechat-cli [--home DIR] [--json] [--profile NAME] [--passphrase-file F] COMMAND ...

Each command group lives in its own module with a `register(subparsers)` function that adds
its parser and sets `handler`; add a group (publish, open, consent, conversations, send,
sync, history, safety-number) by writing a module and listing it in `_GROUPS`.

Exit codes: 0 success; 1 an error securechat understood (message on stderr); 2 usage error;
3 wrong passphrase; 4 an integrity check failed (`notes verify`); 70 an unexpected internal
error; 141 the reader of standard output went away (``... | head``), said on no stream. No
traceback is printed unless `SECURECHAT_DEBUG=1`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from securechat.cli import cmd_chat, cmd_disclosure, cmd_notes, cmd_profiles
from securechat.cli.common import Context
from securechat.errors import SecureChatError, WrongPassphrase
from securechat.store.db import DatabaseError, storage_error

__all__ = [
    "EXIT_AUTH",
    "EXIT_BROKEN_PIPE",
    "EXIT_ERROR",
    "EXIT_INTERNAL",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_INTERNAL = 70
EXIT_BROKEN_PIPE = 141  # as a shell reports a process ended by SIGPIPE

_GROUPS: tuple[ModuleType, ...] = (cmd_profiles, cmd_chat, cmd_notes, cmd_disclosure)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="securechat-cli",
        description="securechat without a window: profiles, conversations, notes, disclosure.",
    )
    parser.add_argument("--home", type=Path, help="data folder (default: $SECURECHAT_HOME)")
    parser.add_argument("--json", action="store_true", help="one JSON object per output line")
    parser.add_argument("--profile", help="profile name (optional when only one exists)")
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help="read the passphrase from the first line of this file",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _GROUPS:
        group.register(sub)
    return parser


def _report(ctx_json: bool, exc: BaseException, message: str) -> None:
    if ctx_json:
        sys.stderr.write(json.dumps({"error": type(exc).__name__, "message": message}) + "\n")
    else:
        sys.stderr.write(f"securechat-cli: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    os.umask(0o077)
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("SECURECHAT_DEBUG") == "1"
    try:
        ctx = Context.from_args(args)
        code: int = args.handler(ctx, args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # `securechat-cli ... | head`: the reader stopped reading. Not an error of ours, so
        # nothing on stderr; 141 is what a shell reports for a process ended by SIGPIPE.
        # Python flushes stdout again at exit: point it at /dev/null so that stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except WrongPassphrase as exc:
        _report(args.json, exc, str(exc))
        return EXIT_AUTH
    except SecureChatError as exc:
        if debug:
            traceback.print_exc()
        _report(args.json, exc, str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except EOFError as exc:
        _report(
            args.json, exc, "No passphrase was given. Set SECURECHAT_PASSPHRASE or use a terminal."
        )
        return EXIT_ERROR
    except DatabaseError as exc:
        if debug:
            traceback.print_exc()
        meaning = storage_error(exc)  # in use, read-only, damaged, or another refusal
        _report(args.json, meaning, str(meaning))
        return EXIT_ERROR
    except OSError as exc:
        if debug:
            traceback.print_exc()
        _report(args.json, exc, f"A file could not be read or written ({exc.strerror}).")
        return EXIT_ERROR
    except Exception as exc:
        if debug:
            traceback.print_exc()
        _report(args.json, exc, "An unexpected error occurred. Set SECURECHAT_DEBUG=1 for detail.")
        return EXIT_INTERNAL
