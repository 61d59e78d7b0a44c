"""What every CLI command shares: the context, passphrase input, unlocking, output.

Passphrases come from `$SECURECHAT_PASSPHRASE`, else `--passphrase-file` (its first line),
else the key remembered on this device, else an interactive prompt (getpass). They are never
accepted as command-line arguments, which other users could read from the process list.
Without a terminal to prompt on, a command fails with `InvalidInput` naming the variable and
the option that would have supplied the secret.

Roles: a command for one role only (notes and disclosure for counselors; open and consent for
clients) is declared with `for_role` when it is registered. `Context.unlock` and
`Context.check_role` refuse it for a profile of the other role with one line naming the
command, before the command reads or writes anything.

Output: human-readable lines, or with `--json` exactly one JSON object per line on stdout.
Text another person chose (names, messages, summaries, referrals, a counselor's profile and
disclosure) goes through `shown` / `shown_lines` for human output: control and format
characters (ESC, BEL, CR, C1, bidi overrides; not ZWJ) and line separators become visible
escapes like `\\x1b`, so it can neither drive the terminal nor forge a line of ours. In JSON
the same characters are `\\uXXXX` escapes (json escapes only those below U+0020 by itself).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto.passphrase import KdfParams
from securechat import profiles
from securechat.errors import (
    InvalidInput,
    KeyringUnavailable,
    NotRemembered,
    ProfileNotFound,
)
from securechat.paths import home_dir
from securechat.secret import check_new_passphrase

__all__ = [
    "NEW_PASSPHRASE_ENV",
    "PASSPHRASE_ENV",
    "Context",
    "Handler",
    "for_role",
    "new_kdf_params",
    "read_new_secret",
    "read_secret",
    "shown",
    "shown_lines",
]

PASSPHRASE_ENV = "SECURECHAT_PASSPHRASE"  # noqa: S105 - a variable name
NEW_PASSPHRASE_ENV = "SECURECHAT_NEW_PASSPHRASE"  # noqa: S105 - a variable name


_ZWJ = "\u200d"  # joins emoji sequences; harmless, and names need it
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _unsafe(ch: str) -> bool:
    return ch != _ZWJ and unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _visible(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def shown(untrusted: str) -> str:
    """Someone else's text for one line of human-readable output: every control or format
    character (ESC, BEL, CR, newline, tab, C1 controls, bidi overrides; not ZWJ) and line or
    paragraph separator becomes a visible escape such as `\\x1b`."""
    if not any(_unsafe(ch) for ch in untrusted):
        return untrusted
    return "".join(_visible(ch) if _unsafe(ch) else ch for ch in untrusted)


def shown_lines(untrusted: str, indent: str) -> str:
    """Someone else's text that may have several lines: each line `shown`, the second and
    later ones after `indent` (not empty), so none of them can pass for a line of our own."""
    lines = untrusted.replace("\r\n", "\n").split("\n")
    return ("\n" + indent).join(shown(line) for line in lines)


def for_role(parser: argparse.ArgumentParser, role: profiles.Role) -> None:
    """Declare the command of `parser` (a subcommand's parser) one for `role` profiles only."""
    parser.set_defaults(only_for_role=role, command_name=parser.prog.partition(" ")[2])


@dataclass
class Context:
    """Parsed global options plus helpers for commands."""

    home: Path
    json: bool
    profile_name: str | None
    passphrase_file: Path | None
    only_for_role: str | None = None  # set by `for_role`
    command_name: str = ""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        """Build from the global options (and the command's role, if it declared one)."""
        return cls(
            home=home_dir(args.home),
            json=bool(args.json),
            profile_name=args.profile,
            passphrase_file=args.passphrase_file,
            only_for_role=getattr(args, "only_for_role", None),
            command_name=getattr(args, "command_name", ""),
        )

    def check_role(self, role: str) -> None:
        """Refuse to run a command declared for the other role than `role` (the profile's).

        Raises:
            InvalidInput: the command is for the other role; it names the command.
        """
        if self.only_for_role is not None and role != self.only_for_role:
            raise InvalidInput(
                f"'{self.command_name}' is for {self.only_for_role}s; this profile is a {role}."
            )

    def emit(self, record: dict[str, Any], text: str | None = None) -> None:
        """Print one result: a JSON line with `--json`, else `text` (or key: value lines)."""
        if self.json:
            line = json.dumps(record, ensure_ascii=False, sort_keys=True)
            if any(_unsafe(ch) for ch in line):
                line = "".join(_json_escape(ch) if _unsafe(ch) else ch for ch in line)
            sys.stdout.write(line + "\n")
        elif text is not None:
            sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
        else:
            for key, value in record.items():
                sys.stdout.write(f"{key}: {value}\n")
        sys.stdout.flush()

    def resolve_profile_name(self) -> str:
        """`--profile`, or the only profile there is.

        Raises:
            ProfileNotFound: no profiles exist.
            InvalidInput: several profiles exist and none was chosen.
        """
        if self.profile_name:
            return self.profile_name
        names = profiles.list_profiles(self.home)
        if len(names) == 1:
            return names[0]
        if not names:
            raise ProfileNotFound("There is no profile yet. Create one with 'init'.")
        raise InvalidInput("There are several profiles. Choose one with --profile NAME.")

    def passphrase(self) -> str | None:
        """The passphrase from the environment or file, or None if neither is given."""
        env = os.environ.get(PASSPHRASE_ENV)
        if env:
            return env
        if self.passphrase_file is not None:
            return _first_line(self.passphrase_file)
        return None

    def prompt_passphrase(self, prompt: str = "Passphrase: ") -> str:
        """The passphrase from env or file, else asked for interactively.

        Raises:
            InvalidInput: it must be asked for, and there is no terminal.
        """
        value = self.passphrase()
        return value if value is not None else self.ask_passphrase(prompt)

    def ask_passphrase(self, prompt: str) -> str:
        """The profile's passphrase, asked for interactively.

        Raises:
            InvalidInput: there is no terminal.
        """
        return _ask(prompt, "passphrase", PASSPHRASE_ENV, "--passphrase-file")

    def unlock(self) -> profiles.Profile:
        """Unlock the chosen profile: passphrase if given, else remembered key, else prompt;
        then `check_role` (a refused profile is locked again, untouched).

        Raises:
            the `securechat.errors` of `unlock_profile` / `unlock_remembered`.
            InvalidInput: the command is for the other role.
        """
        profile = self._unlock()
        try:
            self.check_role(profile.role)
        except InvalidInput:
            profile.lock()
            raise
        return profile

    def _unlock(self) -> profiles.Profile:
        name = self.resolve_profile_name()
        passphrase = self.passphrase()
        if passphrase is None:
            try:
                return profiles.unlock_remembered(name, home=self.home)
            except (KeyringUnavailable, NotRemembered):
                passphrase = self.ask_passphrase(f"Passphrase for {name}: ")
        return profiles.unlock_profile(name, passphrase, home=self.home)


def _first_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("The passphrase file cannot be read.") from exc
    if not lines or not lines[0]:
        raise InvalidInput("The passphrase file is empty.")
    return lines[0]


def _given(env_name: str, file: Path | None) -> str | None:
    """A passphrase given without a prompt: `env_name`, else the first line of `file`."""
    env = os.environ.get(env_name)
    if env:
        return env
    return None if file is None else _first_line(file)


def _ask(prompt: str, what: str, env_name: str, file_option: str) -> str:
    try:
        return getpass.getpass(prompt)
    except EOFError as exc:  # no terminal, and nothing on standard input
        sys.stderr.write("\n")  # end the prompt's line: the error report gets a line of its own
        raise InvalidInput(
            f"No {what} was given. Set {env_name}, use {file_option}, or run this in a terminal."
        ) from exc


def read_secret(env_name: str, file: Path | None, what: str, file_option: str) -> str:
    """An existing passphrase (say, an export's): from `env_name`, else the first line of
    `file` (given with `file_option`), else asked for once.

    Raises:
        InvalidInput: the file cannot be read or is empty, or it must be asked for and there
            is no terminal.
    """
    given = _given(env_name, file)
    if given is not None:
        return given
    return _ask(f"{what[:1].upper()}{what[1:]}: ", what, env_name, file_option)


def read_new_secret(env_name: str, file: Path | None, what: str, file_option: str) -> str:
    """A new passphrase: from `env_name`, else the first line of `file` (given with
    `file_option`), else asked twice (a too short first entry is refused at once).

    Raises:
        InvalidInput: shorter than `MIN_PASSPHRASE_LENGTH` (`check_new_passphrase`), or the
            two typed entries differ, or it must be asked for and there is no terminal.
    """
    given = _given(env_name, file)
    if given is not None:
        check_new_passphrase(given, what)
        return given
    first = _ask(f"New {what}: ", what, env_name, file_option)
    check_new_passphrase(first, what)
    second = _ask(f"Repeat the new {what}: ", what, env_name, file_option)
    if first != second:
        raise InvalidInput("The two entries differ. Nothing was changed.")
    return first


def new_kdf_params() -> KdfParams:
    """Fresh salt with the real Argon2id cost. There is deliberately no setting that lowers
    it: the CLI's own tests run it through `tests/cheap_kdf_cli.py` instead."""
    return KdfParams.generate()


Handler = Callable[[Context, argparse.Namespace], int]
