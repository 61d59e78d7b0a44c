"""``python -m tests.cheap_kdf_cli ARGS``: `securechat-cli` with the cheapest Argon2id cost.

For the CLI's subprocess tests only. The shipped CLI has no setting that lowers the cost of
the key derivation (a profile made with a cheap cost keeps it); this module lowers it by
replacing `KdfParams.generate` in its own process before the CLI starts.
"""

from __future__ import annotations

import sys

from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams


def _cheap(cls: type[KdfParams], opslimit: int = 0, memlimit: int = 0) -> KdfParams:
    return _generate(MIN_OPSLIMIT, MIN_MEMLIMIT)


_generate = KdfParams.generate
KdfParams.generate = classmethod(_cheap)  # type: ignore[method-assign,assignment]

if __name__ == "__main__":
    from securechat.cli import main

    sys.exit(main())
