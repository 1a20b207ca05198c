"""Architecture rules that import-linter enforces in `make check`, also checked here so a new
module cannot slip past a contract that names only existing ones.
"""

import ast
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
