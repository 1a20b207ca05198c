"""Every file fieldkit or SQLite creates is 0600, in a folder only its owner can enter.

The attack: with the vault's or HQ's folder already there (0755 from a ``mkdir`` with the usual
umask), the database, its WAL and its shm were created 0644 and another local user read a
name and a NIK from HQ's WAL. Here the folders exist first (0755, and 0777), the process umask
is the usual 0022, real work makes SQLite create its WAL and shm, and every mode is checked;
a loose file left by an older fieldkit is tightened with a message; a shared folder (sticky
bit, like /tmp) is refused. And another user's read is attempted for real, in a forked child
that drops root to ``nobody``.
"""

from __future__ import annotations

import os
import stat
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from fieldkit.service.session import create_vault
from fieldkit.settings import Settings
from fieldkit.vault.errors import VaultError
from fieldkit.vault.vault import Vault
from sync.hq import store
from tests.support.hq import init_hq, run_cli
from tests.support.vault import SUP, SUP_NAME, SUP_PW, add_applicants, people, plan_visit

NOBODY = 65534


@pytest.fixture
def usual_umask():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def open_base():
    """A folder every user may traverse (pytest's own tmp folders are 0700)."""
    base = Path(tempfile.mkdtemp(prefix="fieldkit-modes-"))
    base.chmod(0o755)
    yield base
    for path in sorted(base.rglob("*"), reverse=True):
        path.unlink() if not path.is_dir() or path.is_symlink() else path.rmdir()
    base.rmdir()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: _mode(p) for p in folder.iterdir()}


def _read_as_nobody(path: Path) -> int:
    """Try to read ``path`` as the user ``nobody`` in a forked child: 0 read, else errno."""
    pid = os.fork()
    if pid == 0:  # the child: drop root, try, report through the exit code only
        code = 0
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            code = exc.errno or 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("folder_mode", [0o755, 0o777])
def test_a_vault_in_an_existing_loose_folder_is_private_wal_and_shm_included(
    open_base, usual_umask, folder_mode
):
    home = open_base / "vault"
    home.mkdir()
    home.chmod(folder_mode)
    settings = Settings(home=home, insecure_test_kdf=True)
    session = create_vault(settings, SUP, SUP_NAME, SUP_PW)
    add_applicants(session.unlocked, plan_visit(session.unlocked), people(3, seed=2))

    modes = _modes(home)
    assert {"vault.db", "vault.db-wal", "vault.db-shm"} <= set(modes), modes
    assert all(mode == 0o600 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}
    assert _mode(home) == 0o700
    said = [w.en for w in session.warnings]
    assert any(f"could be entered by other users (mode {folder_mode:04o})" in w for w in said)

    # Another local user, for real: neither the folder nor (were the folder opened again by
    # someone) the files let them read a byte.
    if os.geteuid() == 0:
        assert _read_as_nobody(home / "vault.db-wal") == 13  # EACCES
        home.chmod(0o755)
        for name in ("vault.db", "vault.db-wal", "vault.db-shm"):
            assert _read_as_nobody(home / name) == 13, name
    session.lock()


def test_a_loose_vault_file_from_before_is_tightened_with_a_message(tmp_path, usual_umask):
    home = tmp_path / "vault"
    created = create_vault(Settings(home=home, insecure_test_kdf=True), SUP, SUP_NAME, SUP_PW)
    created.lock()
    (home / "vault.db").chmod(0o644)
    home.chmod(0o755)

    vault = Vault.open(home)
    assert _mode(home / "vault.db") == 0o600 and _mode(home) == 0o700
    said = " ".join(n.en for n in vault.notices)
    assert "vault.db could be read by other users (mode 0644); it is now 0600" in said
    assert "it is now 0700" in said
    assert all(mode == 0o600 for mode in _modes(home).values()), _modes(home)
    vault.close()


def test_a_shared_folder_is_refused_not_changed(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(VaultError, match="can be entered by other users"):
        create_vault(Settings(home=shared, insecure_test_kdf=True), SUP, SUP_NAME, SUP_PW)
    assert _mode(shared) == 0o1777 and not (shared / "vault.db").exists()


def test_hqs_store_in_an_existing_loose_folder_is_private_wal_and_shm_included(
    open_base, usual_umask
):
    home = open_base / "hq"
    home.mkdir()
    home.chmod(0o755)
    hq = init_hq(home)  # a real `fieldkit-hq init`, its own umask 0022 inherited
    assert _mode(home) == 0o700

    engine = hq.engine()
    try:
        # A reader held open: SQLite keeps its WAL and shm while a writer works.
        with engine.connect() as connection:
            reader = connection.execution_options(readonly=True)
            reader.exec_driver_sql("SELECT count(*) FROM devices").all()
            store.create_enroll_code(engine, timedelta(hours=1))
            modes = _modes(home)
            assert {"hq.db", "hq.db-wal", "hq.db-shm", "hq-keys.json"} <= set(modes), modes
            assert all(m == 0o600 for m in modes.values()), {k: oct(v) for k, v in modes.items()}
            if os.geteuid() == 0:
                home.chmod(0o755)
                for name in ("hq.db", "hq.db-wal", "hq.db-shm", "hq-keys.json"):
                    assert _read_as_nobody(home / name) == 13, name
                home.chmod(0o700)
    finally:
        engine.dispose()


def test_hqs_loose_files_are_tightened_with_a_warning(tmp_path):
    hq = init_hq(tmp_path / "hq")
    (hq.home / "hq.db").chmod(0o644)
    (hq.home / "hq-keys.json").chmod(0o644)
    hq.home.chmod(0o755)
    done = run_cli(hq.env, "status")  # a real process: its warnings on standard error
    assert "hq.db could be read by other users (mode 0644); it is now 0600" in done.stderr
    assert "hq-keys.json could be read by other users" in done.stderr
    assert _mode(hq.home) == 0o700
    assert _mode(hq.home / "hq.db") == 0o600 and _mode(hq.home / "hq-keys.json") == 0o600
