"""``fieldkit-hq serve`` over TLS, and a laptop that trusts HQ only through its CA bundle.

A real HQ subprocess serves HTTPS with a self-signed certificate made here. A laptop given that
certificate as ``hq_ca_bundle`` enrolls and syncs; a laptop without it, or trusting another
certificate (an attacker's HQ would present its own), stops at the TLS handshake with a clear
message, exit code 3, and HQ receives nothing.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldkit.cli.main import main as fieldkit_main
from fieldkit.vault import syncstate
from sync.hq import store
from sync.hq.cli import main as hq_main
from tests.support.hq import init_hq, start_server, stop_server
from tests.support.tls import self_signed
from tests.support.vault import add_applicants, cli_env, new_vault, people, plan_visit


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    return self_signed(folder, "hq"), self_signed(folder, "rogue")


@pytest.fixture(scope="module")
def server(tmp_path_factory, certs):
    hq_cert, _ = certs
    hq = init_hq(tmp_path_factory.mktemp("hq-tls"))
    running = start_server(hq, workers=1, tls=(hq_cert.cert, hq_cert.key))
    try:
        yield running
    finally:
        # The laptops' HTTP sessions of the commands run in this process hold kept-alive TLS
        # connections until collected; collected first, the server's graceful shutdown does
        # not wait for them.
        gc.collect()
        stop_server(running)
    log = running.log.read_text()
    assert "Traceback" not in log, log


def _fieldkit(home: Path, *args: str, **extra: str):
    env = {**cli_env(home, FIELDKIT_LANG="en"), **extra}
    env.setdefault("FIELDKIT_HQ_CA_BUNDLE", "")
    return CliRunner().invoke(fieldkit_main, list(args), env=env)


def _requests_logged(server) -> int:
    """How many HTTP requests HQ's uvicorn logged (one access-log line each)."""
    return sum(
        1 for line in server.log.read_text().splitlines() if '" ' in line and "HTTP/" in line
    )


def test_serve_speaks_https_and_says_so(server):
    assert server.url.startswith("https://127.0.0.1:")
    assert "https://127.0.0.1:" in server.log.read_text()


def test_a_laptop_trusting_hqs_certificate_enrolls_and_syncs(server, certs, tmp_path):
    hq_cert, _ = certs
    home = tmp_path / "laptop"
    session = new_vault(home)
    add_applicants(session, plan_visit(session), people(3, seed=4))
    trust = {"FIELDKIT_HQ_CA_BUNDLE": str(hq_cert.cert)}

    enrolled = _fieldkit(
        home, "enroll", "--hq", server.url, "--code", server.enroll_code(), **trust
    )
    assert enrolled.exit_code == 0, enrolled.output
    synced = _fieldkit(home, "sync", "--once", **trust)
    assert synced.exit_code == 0, synced.output
    assert "HQ has received everything." in synced.output
    held = server.hq.count(store.records, store.records.c.device_id == session.vault.device_id)
    assert held >= 3, "the applicants reached HQ over TLS"
    session.vault.close()


@pytest.mark.parametrize("trust", ["none", "rogue"])
def test_a_laptop_without_the_trust_refuses_to_enroll_and_sends_nothing(
    server, certs, tmp_path, trust
):
    _, rogue = certs
    home = tmp_path / "laptop"
    new_vault(home).vault.close()
    extra = {"FIELDKIT_HQ_CA_BUNDLE": str(rogue.cert)} if trust == "rogue" else {}
    devices_before = server.hq.count(store.devices)
    requests_before = _requests_logged(server)

    refused = _fieldkit(home, "enroll", "--hq", server.url, "--code", server.enroll_code(), **extra)

    assert refused.exit_code == 3, refused.output
    assert "TLS certificate of" in refused.output and "is not trusted" in refused.output
    assert "Nothing was sent" in refused.output
    assert "after" not in refused.output, "refused at once, not retried as a network failure"
    assert server.hq.count(store.devices) == devices_before
    assert _requests_logged(server) == requests_before, "no request reached HQ"


def test_an_enrolled_laptop_that_meets_another_certificate_sends_no_batch(server, certs, tmp_path):
    hq_cert, rogue = certs
    home = tmp_path / "laptop"
    session = new_vault(home)
    enrolled = _fieldkit(
        home,
        "enroll",
        "--hq",
        server.url,
        "--code",
        server.enroll_code(),
        FIELDKIT_HQ_CA_BUNDLE=str(hq_cert.cert),
    )
    assert enrolled.exit_code == 0, enrolled.output
    add_applicants(session, plan_visit(session), people(2, seed=5))
    requests_before = _requests_logged(server)

    # The same address now presents a certificate the laptop does not trust: as if someone
    # answered in HQ's place. The laptop's bundle is the rogue's.
    refused = _fieldkit(home, "sync", "--once", FIELDKIT_HQ_CA_BUNDLE=str(rogue.cert))

    assert refused.exit_code == 3, refused.output
    assert "is not trusted" in refused.output
    assert _requests_logged(server) == requests_before
    assert server.hq.count(store.batches, store.batches.c.device_id == session.vault.device_id) == 0
    assert all(not b.acked for b in syncstate.batches(session.conn))
    session.vault.close()


def test_serve_refuses_a_key_of_another_certificate_before_listening(server, certs):
    hq_cert, rogue = certs
    env = server.hq.env
    args = ["serve", "--port", "1", "--tls-cert", str(hq_cert.cert)]
    done = CliRunner().invoke(hq_main, [*args, "--tls-key", str(rogue.key)], env=env)
    assert done.exit_code == 2, done.output
    assert "Cannot use the TLS certificate" in done.stderr
    half = CliRunner().invoke(hq_main, args, env=env)
    assert half.exit_code == 2 and "both --tls-cert and --tls-key" in half.stderr
