"""The docs site's Griffe extension turns the Sphinx roles of docstrings into cross-references mkdocstrings renders."""

import importlib.util
from pathlib import Path

import griffe
import pytest

EXTENSION = Path(__file__).resolve().parent.parent / "docs" / "extensions" / "sphinx_roles.py"


@pytest.fixture(scope="module")
def roles():
    spec = importlib.util.spec_from_file_location("sphinx_roles", EXTENSION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_roles_become_optional_cross_references_resolved_in_scope(roles):
    source = {
        "__init__.py": "from specgym.tools import helper\n",
        "tools.py": (
            "def helper():\n    '''Calls :func:`other`, see :class:`~specgym.tools.Thing` and :meth:`the method <Thing.go>`.'''\n\n"
            "def other():\n    ''':func:`specgym.helper` back.'''\n\n"
            "class Thing:\n    def go(self):\n        ''':attr:`missing` stays text.'''\n"
        ),
    }
    with griffe.temporary_visited_package("specgym", source, extensions=griffe.load_extensions(roles.SphinxRoles)) as pkg:
        helper, thing = pkg["tools.helper"], pkg["tools.Thing"]
        assert helper.docstring.value == (
            'Calls <autoref identifier="specgym.tools.other" optional><code>other</code></autoref>, '
            'see <autoref identifier="specgym.tools.Thing" optional><code>Thing</code></autoref> and '
            '<autoref identifier="specgym.tools.Thing.go" optional><code>the method</code></autoref>.')
        assert pkg["tools.other"].docstring.value.startswith('<autoref identifier="specgym.helper" optional>')
        assert ":attr:" not in thing["go"].docstring.value
