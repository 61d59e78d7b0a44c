"""The palette keeps text readable: WCAG AA contrast for every text colour on its background."""

from __future__ import annotations

import pytest

from ui.common.style import COLORS


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("text", "surface"),
        ("text", "window"),
        ("text", "outgoing"),
        ("muted", "surface"),
        ("muted", "window"),
        ("muted", "outgoing"),
        ("help_text", "help_bg"),
        ("warn_text", "warn_bg"),
        ("failed", "surface"),
        ("failed", "outgoing"),
        ("accent", "surface"),
    ],
)
def test_text_contrast_meets_wcag_aa(text: str, background: str) -> None:
    """Each text colour has at least 4.5:1 contrast with the background it is drawn on."""
    assert contrast(COLORS[text], COLORS[background]) >= 4.5


def test_white_on_accent_buttons() -> None:
    """White text on primary buttons has at least 4.5:1 contrast."""
    assert contrast("#FFFFFF", COLORS["accent"]) >= 4.5
