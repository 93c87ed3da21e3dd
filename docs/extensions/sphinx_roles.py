"""Render the Sphinx roles of specgym's docstrings (:func:`name`, :class:`~specgym.Env`, ...) as links.

The docstrings are Google style with Markdown text, but many name other objects with Sphinx roles, which
mkdocstrings would show as plain text. This Griffe extension (mkdocs.yml loads it) turns each role into an
optional cross-reference: a link where the object has a page on the site, code text where it has none, so
a role to an undocumented helper never breaks `mkdocs build --strict`.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|obj|exc|const):`(?P<body>[^`]+)`")
TITLED = re.compile(r"(?P<title>.*?)\s*<(?P<target>[^>]+)>$")


def qualified(obj: griffe.Object, target: str) -> str:
    """The full dotted path of `target` as written in `obj`'s docstring (relative names are looked up in its scope)."""
    if target.startswith("specgym."):
        return target
    head, _, rest = target.partition(".")
    try:
        base = obj.resolve(head)
    except (griffe.NameResolutionError, AttributeError, KeyError):
        return target
    return f"{base}.{rest}" if rest else base


def link(obj: griffe.Object, body: str) -> str:
    """The HTML of one role's cross-reference."""
    titled = TITLED.match(body)
    title, target = (titled["title"], titled["target"]) if titled else (None, body)
    short = target.startswith("~")
    target = target.lstrip("~").removesuffix("()")
    shown = title or (target.rsplit(".", 1)[-1] if short else target)
    return f'<autoref identifier="{qualified(obj, target)}" optional><code>{shown}</code></autoref>'


class SphinxRoles(griffe.Extension):
    """Rewrites the roles in every docstring of a package once the package is fully loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = ROLE.sub(lambda match, obj=obj: link(obj, match["body"]), obj.docstring.value)
            stack.extend(member for member in obj.members.values() if isinstance(member, griffe.Object))
