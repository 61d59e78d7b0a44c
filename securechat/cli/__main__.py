"""`python -m securechat.cli`."""

from __future__ import annotations

import sys

from securechat.cli import main

sys.exit(main())
