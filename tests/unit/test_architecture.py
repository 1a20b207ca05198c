"""The layers, checked from the outside: what a fresh interpreter loads, and no import cycles.

import-linter (`make lint`) enforces the contracts in pyproject.toml; these tests check what
those contracts cannot see: modules actually loaded at run time, deferred imports inside
functions, and which third-party packages a laptop needs.
"""

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
HQ_ONLY_PACKAGES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return set(done.stdout.split())


def test_the_hq_server_loads_no_module_of_the_laptops_store():
    loaded = loaded_after("import sync.hq.app, sync.hq.cli, sync.hq.serving")
    assert "sync.hq.app" in loaded
    laptop = sorted(
        m
        for m in loaded
        if m.startswith(("fieldkit.vault", "fieldkit.service", "fieldkit.cli", "sync.device"))
    )
    assert laptop == [], laptop


def test_a_laptop_runs_without_the_hq_extra():
    loaded = loaded_after("import fieldkit.cli, fieldkit.service.sync, sync.device.client")
    assert "fieldkit.service.sync" in loaded
    hq = sorted(m for m in loaded if m.split(".")[0] in HQ_ONLY_PACKAGES or m.startswith("sync.hq"))
    assert hq == [], hq


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            neighbours = edges.get(node, [])
            if position < len(neighbours):
                work.append((node, position + 1))
                nxt = neighbours[position]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_import_cycles_deferred_imports_included():
    # grimp reads every import statement, also those inside functions.
    graph = grimp.build_graph("fieldkit", "sync")
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph) == [["a.x", "a.y"]]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_user_interfaces_import_only_the_application_layer_domain_and_settings():
    allowed = ("fieldkit.service", "fieldkit.domain", "fieldkit.settings", "fieldkit.cli")
    for package in ("fieldkit/cli", "fieldkit/tui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            ours = {m for m in _imports(path) if m.split(".")[0] in {"fieldkit", "sync"}}
            stray = {m for m in ours if m != "fieldkit" and not m.startswith(allowed)}
            assert not stray, (path, stray)


def test_fieldkit_hq_without_the_hq_extra_says_what_to_install():
    # A laptop install lacks the HQ packages: make them unimportable in a fresh interpreter.
    code = (
        "import sys\n"
        "for name in ('fastapi', 'uvicorn', 'sqlalchemy', 'alembic', 'psycopg'):\n"
        "    sys.modules[name] = None\n"
        "from sync.hq.entry import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 1
    assert "pip install 'fieldkit[hq]'" in done.stderr
    assert "Traceback" not in done.stderr
