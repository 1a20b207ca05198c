"""HQ's passphrase from a file (or a systemd credential, or a descriptor), never an environment.

The attack: with ``FIELDKIT_HQ_PASSPHRASE`` the passphrase stays readable in
``/proc/<pid>/environ`` of the server for its whole life (dropping it from ``os.environ``
does not change what the kernel keeps). Real ``fieldkit-hq serve`` processes, one worker and
several, are started with ``--passphrase-file`` and the environment of every process is read:
the passphrase is in none. With the variable, it is in the supervisor's (which shows the read
is real) and HQ's log warns, recommending the file; the workers still never get it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldkit.settings import load_settings
from sync.hq.cli import main as hq_main
from sync.hq.cli.common import Failed, passphrase_from_fd
from tests.support.hq import PASSPHRASE, children, init_hq, serving, write_passphrase_file

SECRET = PASSPHRASE.encode("utf-8")


@pytest.fixture(scope="module")
def hq(tmp_path_factory):
    return init_hq(tmp_path_factory.mktemp("hq-passphrase"))


def _environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def _serving_pids(server, workers: int) -> list[int]:
    """The server's processes once its workers exist (an environment is fixed at exec)."""
    deadline = time.monotonic() + 60
    while len(children(server.process.pid)) < (workers if workers > 1 else 0):
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.05)
    return server.worker_pids()


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_served_with_a_passphrase_file_no_process_has_it_in_its_environment(hq, tmp_path, workers):
    secret_file = write_passphrase_file(tmp_path / "hq-passphrase")
    with serving(hq, workers, passphrase_file=secret_file) as server:
        pids = _serving_pids(server, workers)
        assert len(pids) >= workers + (1 if workers > 1 else 0), pids
        for pid in pids:
            assert SECRET not in _environ(pid), f"process {pid} has the passphrase"
            assert SECRET not in _cmdline(pid)
            assert b"FIELDKIT_HQ_PASSPHRASE=" not in _environ(pid)
    assert "stays readable" not in server.log.read_text()


def test_with_the_environment_variable_the_server_has_it_and_hq_warns(hq):
    # One worker (the multi-worker supervisor hands workers the passphrase over their spawn
    # pipe whatever its source: the file test above shows their environments).
    with serving(hq, 1) as server:
        assert SECRET in _environ(server.process.pid), "the read is real: the variable is visible"
    log = server.log.read_text()
    assert "stays readable in this process's /proc/<pid>/environ" in log
    assert "--passphrase-file" in log


def test_a_passphrase_file_others_can_read_is_refused(hq, tmp_path):
    loose = write_passphrase_file(tmp_path / "loose")
    loose.chmod(0o644)
    env = {k: v for k, v in hq.env.items() if k != "FIELDKIT_HQ_PASSPHRASE"}
    done = CliRunner().invoke(hq_main, ["serve", "--passphrase-file", str(loose)], env=env)
    assert done.exit_code == 1, done.output
    assert "can be read by group or others" in done.stderr and "chmod 600" in done.stderr


def test_a_link_or_a_fifo_as_passphrase_file_is_refused(hq, tmp_path):
    env = {k: v for k, v in hq.env.items() if k != "FIELDKIT_HQ_PASSPHRASE"}
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    link = tmp_path / "link"
    link.symlink_to(write_passphrase_file(tmp_path / "real"))
    for path in (fifo, link):
        done = CliRunner().invoke(hq_main, ["serve", "--passphrase-file", str(path)], env=env)
        assert done.exit_code == 1 and "passphrase file" in done.stderr, done.output


def test_a_systemd_credential_is_the_default_passphrase_file(hq, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    write_passphrase_file(credentials / "fieldkit-hq-passphrase")
    settings = load_settings(
        {"FIELDKIT_CONFIG": str(tmp_path / "none"), "CREDENTIALS_DIRECTORY": str(credentials)}
    )
    assert settings.hq_passphrase_file == credentials / "fieldkit-hq-passphrase"

    usb = tmp_path / "usb"
    usb.mkdir()
    env = {k: v for k, v in hq.env.items() if k != "FIELDKIT_HQ_PASSPHRASE"}
    env["CREDENTIALS_DIRECTORY"] = str(credentials)
    done = CliRunner().invoke(hq_main, ["import", str(usb)], env=env)
    assert done.exit_code == 0, done.output  # HQ's keys unlocked with the credential
    assert "0 file(s), 0 refused." in done.stderr


def test_a_passphrase_from_a_descriptor_is_read_to_its_end_and_closed():
    read_end, write_end = os.pipe()
    os.write(write_end, SECRET + b"\n")
    os.close(write_end)
    assert passphrase_from_fd(read_end) == PASSPHRASE
    with pytest.raises(OSError):
        os.fstat(read_end)  # closed: no child inherits it
    empty_read, empty_write = os.pipe()
    os.close(empty_write)
    with pytest.raises(Failed, match="empty"):
        passphrase_from_fd(empty_read)
