"""The library's shape, enforced: a short top level, modules readable in one sitting, no import cycle, and
optimisation steps only inside the training package (docs/architecture.md explains the tree)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minibert"
MAX_TOP_LEVEL_MODULES = 3
MAX_MODULE_LINES = 350


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The minibert modules that ``name`` imports, anywhere in its body (function-level and type-checking imports
    included): ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else ``a.b``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {target for target in found if target in MODULES and target != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of module names (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_top_level_holds_at_most_three_modules():
    top_level = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top_level) <= MAX_TOP_LEVEL_MODULES, f"minibert/ holds {top_level}: move code into a subpackage"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_readable_in_one_sitting(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines (at most {MAX_MODULE_LINES}): split it"


def test_there_is_no_import_cycle():
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    assert graph["minibert.models.xlnet.model"], "the import graph finds nothing: the parser is broken"
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def optimisation_calls(path: Path) -> list[str]:
    """``loss.backward(...)`` and ``optimizer.step()`` / ``scheduler.step()`` calls in one module, as ``name:line``
    (a ``step`` with arguments is something else: matplotlib's ``ax.step(x, y)`` draws a staircase)."""
    return [f"{node.func.attr}:{node.lineno}" for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and (node.func.attr == "backward" or (node.func.attr == "step" and not node.args))]


def test_only_the_training_package_steps_an_optimiser():
    # exercise checkers run the learner's optimisation step (chapter 06) to compare it with the library's
    outside = {name: calls for name, path in MODULES.items()
               if not name.startswith(("minibert.training", "minibert.exercises")) and (calls := optimisation_calls(path))}
    assert not outside, f"training loops outside minibert/training/: {outside}"
    assert optimisation_calls(MODULES["minibert.training.trainer"]), "the Trainer steps: the search is broken"
