"""Emergency numbers and first steps, kept as data rather than buried in widgets.

Job: say which numbers to show for a region (ISO 3166 code from the settings) and what a person
can do right now. The organisation's own entries (e.g. its duty counselor's line) come from a
small JSON file the organisation ships or configures: `SECURECHAT_ORG_CRISIS_FILE`, else
`organisation.json` beside this module when present.

Invariants:
- Source strings are English and marked for translation (context "crisis"); widgets translate
  them when they show them, so a language switch updates the panel.
- A region we have no numbers for still gets a calm line telling the person to call their local
  emergency number: the panel is never empty.
- Organisation entries are plain text and shown as plain text.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ui.common.tr import QT_TRANSLATE_NOOP

__all__ = [
    "FIRST_STEPS",
    "LOCAL_EMERGENCY_LINE",
    "REGIONS",
    "CrisisEntry",
    "entries_for",
    "load_organisation_entries",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrisisEntry:
    name: str  # English source text (translated on display) or organisation text
    number: str
    note: str = ""
    translatable: bool = True


REGIONS: dict[str, tuple[CrisisEntry, ...]] = {
    "ID": (
        CrisisEntry(
            QT_TRANSLATE_NOOP("crisis", "Emergency services (police, ambulance, fire)"),
            "112",
            QT_TRANSLATE_NOOP("crisis", "Free, 24 hours, from any phone."),
        ),
        CrisisEntry(
            QT_TRANSLATE_NOOP("crisis", "Ministry of Health mental-health line"),
            "119 ext. 8",
            QT_TRANSLATE_NOOP("crisis", "Call 119, then press 8 to talk to someone."),
        ),
    ),
}

LOCAL_EMERGENCY_LINE: str = QT_TRANSLATE_NOOP(
    "crisis",
    "If you are in danger right now, please call your local emergency number. "
    "You deserve help, and it is there for you.",
)

FIRST_STEPS: tuple[str, ...] = (
    QT_TRANSLATE_NOOP(
        "crisis", "If you might hurt yourself or someone else, call an emergency number now."
    ),
    QT_TRANSLATE_NOOP(
        "crisis", "If you can, go to a safe place and be near someone you trust. Tell them."
    ),
    QT_TRANSLATE_NOOP(
        "crisis", "Put anything you could hurt yourself with out of reach, or give it to someone."
    ),
    QT_TRANSLATE_NOOP(
        "crisis", "Breathe slowly: in for a count of four, out for a count of six. Repeat."
    ),
    QT_TRANSLATE_NOOP(
        "crisis",
        "You can write to your counselor too, but they may not answer at once: "
        "this app is not an emergency service.",
    ),
)


def entries_for(region: str) -> tuple[CrisisEntry, ...]:
    """Emergency numbers for a region code; empty when we have none (show the local line)."""
    return REGIONS.get(region.upper(), ())


def load_organisation_entries(path: Path | None = None) -> tuple[CrisisEntry, ...]:
    """Read the organisation's own entries: a JSON list of {"name", "number", "note"}."""
    if path is None:
        configured = os.environ.get("SECURECHAT_ORG_CRISIS_FILE")
        path = Path(configured) if configured else Path(__file__).with_name("organisation.json")
    if not path.is_file():
        return ()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return tuple(
            CrisisEntry(str(item["name"]), str(item["number"]), str(item.get("note", "")), False)
            for item in raw
        )
    except (OSError, ValueError, KeyError, TypeError):
        log.error("the organisation's crisis entries could not be read")
        return ()
