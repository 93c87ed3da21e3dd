"""The package's layers point one way: no module imports from a layer above its own.

Read bottom to top, each layer may use the ones below it and nothing above:
the foundation knows no environment, an environment no learner, a learner no
runner, a runner no command. Imports inside functions count too, so a lazy
import cannot hide an upward arrow. The layers are listed here, not inferred,
so moving a module across them is a decision someone makes in this file.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS = [
    ("foundation", ["specgym.errors", "specgym.stats", "specgym.progress", "specgym.stop_request",
                    "specgym.seed_parallel", "specgym.compile_cache", "specgym.compile_options", "specgym.optimise",
                    "specgym.run_dir",
                    "specgym.results", "specgym.settings", "specgym.applicability"]),
    ("environments", ["specgym.envs", "specgym.rewards"]),
    ("learners", ["specgym.rl"]),
    ("evaluation", ["specgym.evaluation", "specgym.rollout", "specgym.references", "specgym.capability",
                    "specgym.policies"]),
    ("methods", ["specgym.learn"]),
    ("feedback", ["specgym.feedback"]),
    ("scenarios", ["specgym.scenarios"]),
    ("pictures", ["specgym.report"]),
    ("adapters", ["specgym.gymnax", "specgym.gymnasium", "specgym.gymnasium_vector"]),
    ("runners", ["specgym.run", "specgym.scoring", "specgym.sweep", "specgym.runners", "specgym.goodhart", "specgym.seq"]),
    ("diagnosis", ["specgym.diagnose"]),
    ("interface", ["specgym.benchmark", "specgym.cli_options", "specgym.commands", "specgym.cli", "specgym"]),
]


def find_layer(module: str) -> int | None:
    """The index of the layer that owns ``module`` (the longest matching prefix wins), or None."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # the package itself owns only its __init__, so a new top-level module must be placed by hand
            inside = module.startswith(prefix + ".") and prefix != "specgym"
            if (module == prefix or inside) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def layer_of(module: str) -> int:
    layer = find_layer(module)
    assert layer is not None, f"{module} belongs to no layer: add it to LAYERS in tests/test_layers.py"
    return layer


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every ``specgym`` module ``path`` imports, at any depth in the file."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "specgym":
                # ``from specgym.pkg import mod`` imports the submodule when there is one
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    as_file = SRC / Path(*sub.split("."))
                    found.add(sub if as_file.with_suffix(".py").exists() or as_file.is_dir() else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "specgym")
    return found


def all_imports() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) for p in sorted((SRC / "specgym").rglob("*.py"))}


def test_every_module_has_a_layer():
    unplaced = [module for module in all_imports() if find_layer(module) is None]
    assert unplaced == [], f"modules in no layer (add them to LAYERS): {unplaced}"
    assert find_layer("specgym.somewhere_new") is None  # a module nobody placed is caught


def test_no_module_imports_from_a_layer_above_it():
    upward = []
    for module, targets in all_imports().items():
        for target in sorted(targets):
            if target == "specgym" and module != "specgym":
                continue  # ``from specgym import x`` names a submodule, resolved above
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def test_no_import_cycles_between_modules():
    graph = all_imports()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph or nxt == node or nxt == "specgym":
                continue
            if state.get(nxt) == 1:
                cycle.extend(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, stack + [nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, [start]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("source, expected", [
    ("from specgym.run import train_seeds\n", {"specgym.run"}),
    ("def f():\n    from specgym.cli import main\n", {"specgym.cli"}),
    ("import specgym.envs.grid\n", {"specgym.envs.grid"}),
])
def test_the_checker_sees_imports_at_any_depth(tmp_path, monkeypatch, source, expected):
    """The checker must find a lazy import inside a function, or the layer test could never fail."""
    fake_src = tmp_path / "src"
    (fake_src / "specgym").mkdir(parents=True)
    probe = fake_src / "specgym" / "probe.py"
    probe.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake_src)
    assert imported_modules(probe) == expected
