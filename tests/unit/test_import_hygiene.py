"""Architecture rules that import-linter enforces in `make check`, also checked here so a new
module cannot slip past a contract that names only existing ones.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

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
