"""Docstrings in each style give the tool's description and its parameters' descriptions.

``parse_doc`` picks the style from the docstring's markers and runs that one parser (the
parser's automatic mode tries them all, which was most of a registration's time): each style
must still come out whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nbmcp.tools.docstrings import DocInfo, parse_doc


def google(a: int, b: int) -> None:
    """Add two numbers.

    More prose.

    Args:
        a: The first.
        b: The second,
            over two lines.

    Returns:
        The sum.
    """


def numpy(a: int, b: int) -> None:
    """Add two numbers.

    More prose.

    Parameters
    ----------
    a : int
        The first.
    b : int
        The second,
        over two lines.
    """


def rest(a: int, b: int) -> None:
    """Add two numbers.

    More prose.

    :param a: The first.
    :param b: The second,
        over two lines.
    :returns: The sum.
    """


def epydoc(a: int, b: int) -> None:
    """Add two numbers.

    More prose.

    @param a: The first.
    @param b: The second,
        over two lines.
    """


def prose(a: int, b: int) -> None:
    """Add two numbers.

    Args here is just a word, and so is Returns.
    """


@pytest.mark.parametrize("fn", [google, numpy, rest, epydoc])
def test_each_style_gives_description_and_params(fn: Callable[..., Any]) -> None:
    info = parse_doc(fn)
    assert info.description == "Add two numbers.\n\nMore prose."
    assert info.params == {"a": "The first.", "b": "The second,\nover two lines."}


def test_prose_stays_whole() -> None:
    assert parse_doc(prose) == DocInfo(
        description="Add two numbers.\n\nArgs here is just a word, and so is Returns.", params={}
    )
