"""Note templates: a template is a name and an ordered tuple of named sections.

SOAP (Subjective, Objective, Assessment, Plan) and DAP (Data, Assessment, Plan) are the two
structures counselors most often use for session notes; `free` is a single body. Section keys
are stable identifiers; the UI translates their labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from securechat.errors import InvalidInput

__all__ = ["TEMPLATES", "Template", "get_template", "normalise_sections"]

_MAX_SECTION_CHARS = 100_000


@dataclass(frozen=True)
class Template:
    """A named, ordered set of sections."""

    name: str
    sections: tuple[str, ...]


TEMPLATES: dict[str, Template] = {
    "soap": Template("soap", ("subjective", "objective", "assessment", "plan")),
    "dap": Template("dap", ("data", "assessment", "plan")),
    "free": Template("free", ("note",)),
}


def get_template(name: str) -> Template:
    """The template called `name`.

    Raises:
        InvalidInput: no such template.
    """
    try:
        return TEMPLATES[name]
    except KeyError:
        raise InvalidInput("Unknown note template. Use soap, dap or free.") from None


def normalise_sections(template: Template, untrusted: Mapping[str, str]) -> dict[str, str]:
    """Every section of `template` in order, missing ones empty.

    Raises:
        InvalidInput: a section the template does not have, a non-text value, or a section
            longer than 100,000 characters.
    """
    unknown = sorted(set(untrusted) - set(template.sections))
    if unknown:
        raise InvalidInput(
            f"The {template.name} template has no section {unknown[0]!r}; "
            f"its sections are {', '.join(template.sections)}."
        )
    out: dict[str, str] = {}
    for name in template.sections:
        value = untrusted.get(name, "")
        if not isinstance(value, str) or len(value) > _MAX_SECTION_CHARS:
            raise InvalidInput("A note section must be text of at most 100,000 characters.")
        out[name] = value
    return out
