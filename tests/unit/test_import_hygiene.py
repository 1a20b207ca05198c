"""Architecture rules that import-linter enforces in `make check`, also checked here so a new
module cannot slip past a contract that names only existing ones, and what the contracts cannot
see: modules a fresh interpreter actually loads, imports inside functions (no import cycles),
the HQ packages a laptop does without, and tests importing other tests.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_domain_imports_nothing_of_ours_but_itself():
    for path in sorted((ROOT / "fieldkit" / "domain").rglob("*.py")):
        ours = {m for m in imported_modules(path) if m.split(".")[0] in {"fieldkit", "sync"}}
        assert all(m.startswith("fieldkit.domain") for m in ours), (path, ours)


def test_nothing_outside_the_tui_imports_textual():
    for package in ("fieldkit/domain", "fieldkit/vault", "sync"):
        for path in sorted((ROOT / package).rglob("*.py")):
            textual = {m for m in imported_modules(path) if m.split(".")[0] == "textual"}
            assert not textual, path


def test_the_domain_and_the_cli_load_without_textual():
    code = (
        "import sys, fieldkit.domain.synth, fieldkit.domain.fees, fieldkit.cli, sync.hq.cli;"
        "sys.exit('textual' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# -- the tests themselves: code is shared through tests/support ----------------------------------

TESTS = ROOT / "tests"


def _supported(module: str) -> bool:
    return module == "tests.support" or module.startswith("tests.support.")


def foreign_test_imports(path: Path, root: Path = ROOT) -> list[str]:
    """Every ``tests`` module ``path`` imports that is not in ``tests.support``, as
    ``line: module`` (relative imports resolved against ``path``'s package under ``root``)."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # "from tests import support" is tests.support; "from tests.integration import x"
            # or "from . import x" is tests.integration.x
            modules = [module if _supported(module) else f"{module}.{a.name}" for a in node.names]
        else:
            continue
        found += [
            f"{node.lineno}: {m}"
            for m in modules
            if m.split(".")[0] == "tests" and not _supported(m)
        ]
    return found


def test_no_test_module_imports_from_another_test_module():
    """Tests share code through ``tests/support`` (and conftest fixtures) only: a helper that two
    test modules need lives there, never in one of them. The support kit and the benchmarks
    import no test module either."""
    offenders = [
        f"{path.relative_to(ROOT)}:{found}"
        for folder in (TESTS, ROOT / "bench")
        for path in sorted(folder.rglob("*.py"))
        for found in foreign_test_imports(path)
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_check_sees_a_test_module_imported_every_way(tmp_path):
    module = tmp_path / "tests" / "integration" / "test_example.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import tests.unit.test_cli\n"
        "from tests.integration.test_purge import Field\n"
        "from tests.integration import test_purge\n"
        "from tests.conftest import PG_ADMIN_URL\n"
        "from . import test_purge as again\n"
        "from .conftest import hq_server\n"
        "from tests.support.hq import run_cli\n"
        "from tests.support import vault\n"
        "from tests import support\n"
        "import tests.support.fake_hq\n",
        encoding="utf-8",
    )
    assert [f.split(": ")[1] for f in foreign_test_imports(module, tmp_path)] == [
        "tests.unit.test_cli",
        "tests.integration.test_purge.Field",
        "tests.integration.test_purge",
        "tests.conftest.PG_ADMIN_URL",
        "tests.integration.test_purge",
        "tests.integration.conftest.hq_server",
    ]


def test_the_benchmarks_import_the_support_kit_when_run_from_the_repository_root():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = (
        "import sys, bench.sync_harness as h, tests.support.hq as s;"
        "sys.exit(h.Hq is not s.Server or h.init_hq is not s.init_hq)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


HQ_ONLY_PACKAGES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return set(done.stdout.split())


def test_the_hq_server_loads_no_module_of_the_laptops_store():
    loaded = loaded_after("import sync.hq.api, sync.hq.cli, sync.hq.serving")
    assert "sync.hq.api" in loaded
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


def test_the_user_interfaces_import_only_the_application_layer_domain_and_settings():
    common = ("fieldkit.service", "fieldkit.domain", "fieldkit.settings")
    # The CLI starts the field app (`fieldkit` with no command); the app never calls the CLI.
    allowed = {
        "fieldkit/cli": (*common, "fieldkit.cli", "fieldkit.tui"),
        "fieldkit/tui": (*common, "fieldkit.tui"),
    }
    for package, prefixes in allowed.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            ours = {m for m in imported_modules(path) if m.split(".")[0] in {"fieldkit", "sync"}}
            stray = {m for m in ours if m != "fieldkit" and not m.startswith(prefixes)}
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
