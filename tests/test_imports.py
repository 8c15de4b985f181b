"""No import circles inside the package: each module's imports (top-level and inside functions)
point one way, so each module's room is clear (issue 18: data <-> features, evaluate <->
msp.scoring, inference <-> timeline were circles)."""
import ast
from pathlib import Path

import networkx as nx

PKG = Path(__file__).resolve().parents[1] / "speechbrain_ser"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set) -> set:
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rsplit(".", 1)[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            for alias in node.names:  # "from . import metrics" names a module
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in modules and m != me}


def test_no_import_cycles():
    files = [p for p in PKG.rglob("*.py")]
    modules = {module_name(p) for p in files}
    g = nx.DiGraph()
    for p in files:
        for target in imports_of(p, modules):
            if not target.startswith(module_name(p) + "."):  # a package importing its own submodules
                g.add_edge(module_name(p), target)
    pkgs = {m for m in modules if (PKG.parent / m.replace(".", "/") / "__init__.py").exists()}
    # a submodule importing its package's __init__ (``from . import CLASSES``) is not a circle of rooms
    g.remove_edges_from([(a, b) for a, b in list(g.edges) if b in pkgs and a.startswith(b + ".")])
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import circles: {cycles}"
