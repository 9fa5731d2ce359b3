"""The package's imports point one way: no module imports one that imports it back."""

import ast
import pathlib

PKG = pathlib.Path(__file__).resolve().parents[1] / "nnvec"


def _imports(path):
    """nnvec modules ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nnvec."):
            found.add(node.module.split(".")[1])
    return {m for m in found if (PKG / f"{m}.py").exists()}


def _graph():
    return {p.stem: _imports(p) for p in PKG.glob("*.py") if p.stem != "__init__"}


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_nnvec_is_part_of_an_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layers_point_down():
    graph = _graph()
    # the kernels know nothing of the rest; the engines do not know the front ends
    assert graph["_kernels"] <= {"config"}
    for low in ("network", "training", "engine", "reference", "columns", "modelfile",
                "checkpoint", "callbacks"):
        assert not graph[low] & {"cli", "sweep", "estimator", "bench", "reproduce"}, low
    assert "__init__" not in {m for deps in graph.values() for m in deps}
