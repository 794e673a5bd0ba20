"""Text for people: messages wrapped into readable lines, counts with the right noun form."""

from __future__ import annotations

import re
import textwrap

#: Lines of a wrapped message: readable in a terminal beside ``[Warning at /Stack/Path]``.
WIDTH = 88


def wrap(text: str, width: int = WIDTH) -> str:
    """``text`` as lines of at most ``width`` characters, words and URLs kept whole."""
    return textwrap.fill(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


def plural(count: int, noun: str, plural_form: str = "") -> str:
    """``1 export job``, ``3 export jobs`` (``plural_form`` where it is not ``noun + "s"``)."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


#: What IAM's CreateRole takes as a Description: at most 1,000 of these characters (its API
#: reference: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
_IAM_DESCRIPTION = re.compile(r"[^\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]")
IAM_DESCRIPTION_MAX = 1000


def iam_description(text: str) -> str:
    """``text`` as an IAM role's Description: each character IAM refuses (outside Latin-1, e.g. a
    construct id in another script) as ``?``, and cut to 1,000 characters (ending in ``...``)."""
    text = _IAM_DESCRIPTION.sub("?", text)
    return text if len(text) <= IAM_DESCRIPTION_MAX else text[: IAM_DESCRIPTION_MAX - 3] + "..."
