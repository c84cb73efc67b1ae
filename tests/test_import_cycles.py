"""No import cycle between Hearth's modules, counting imports inside functions too (they hide
cycles from Python, which only meets them at run time, and from a reader). Imports under
``if TYPE_CHECKING:`` never run and are left out."""

from __future__ import annotations

import ast
from pathlib import Path

import desktop

ROOT = Path(desktop.__file__).parent


def _module_files() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = ("desktop", *path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    kept: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        kept.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return kept


def import_graph() -> dict[str, set[str]]:
    modules = _module_files()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                # `from package import module` depends on the module, not the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                found = owner(target) if target.startswith("desktop") else None
                if found is not None and found != name:
                    graph[name].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_module_of_desktop_imports_itself_round_a_cycle() -> None:
    graph = import_graph()
    # a load-time import and one inside a function (the engine's entry point registers compare's tasks)
    assert "desktop.engine.chat_template" in graph["desktop.compare.tasks"]
    assert "desktop.compare.tasks" in graph["desktop.__main__"]
    found = cycles(graph)
    assert found == [], "\n".join(
        " <-> ".join(f"{m} (imports {sorted(graph[m] & set(group))})" for m in group) for group in found
    )


def test_the_check_sees_imports_inside_functions() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse(
        "def f():\n    from desktop.db import open_database\nif TYPE_CHECKING:\n    import desktop.ui\n"
    )
    imported = [n for n in _runtime_nodes(tree) if isinstance(n, ast.ImportFrom | ast.Import)]
    assert [ast.unparse(n) for n in imported] == ["from desktop.db import open_database"]
