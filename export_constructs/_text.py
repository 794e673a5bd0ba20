"""Text for people: messages wrapped into readable lines, counts with the right noun form."""

from __future__ import annotations

import textwrap

#: Lines of a wrapped message: readable in a terminal beside ``[Warning at /Stack/Path]``.
WIDTH = 88


def wrap(text: str, width: int = WIDTH) -> str:
    """``text`` as lines of at most ``width`` characters, words and URLs kept whole."""
    return textwrap.fill(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


def plural(count: int, noun: str, plural_form: str = "") -> str:
    """``1 export job``, ``3 export jobs`` (``plural_form`` where it is not ``noun + "s"``)."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"
