"""Vaults for tests: the standard officers and passphrases, a planned visit, synthetic applicants.

Every vault made here uses the insecure test KDF (``kdf.INSECURE_TEST_PARAMS``; unlocking is not
what these tests are about) and holds synthetic people only. The capture functions a test needs
merely as setup (plan a visit, add applicants, look at one) are called through this module, so
a change to where they live is made here once; a test that is *about* one of them calls it
directly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from fieldkit import kdf
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.service import applicants as service_applicants
from fieldkit.service import visits
from fieldkit.service.applicants import Applicant
from fieldkit.service.session import OfficerSession
from fieldkit.vault import officers
from fieldkit.vault.home import vault_path
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault
from sync.device.client import SyncClient

# The officers of a test vault: the supervisor who creates it, and two officers.
SUP, SUP_NAME, SUP_PW = "sup1", "Rina Wati", "kopi tubruk pagi hari"
OFF2, OFF2_NAME, OFF2_PW = "off2", "Dedi Kurnia", "sate ayam madura enak"
OFF3, OFF3_NAME, OFF3_PW = "off3", "Sri Lestari", "hujan deras di bogor"
PASSPHRASE = SUP_PW
WRONG_PW = "teh manis sore hari"  # a good passphrase that is nobody's
APPLICANT = "applicant"

# An Eazy Passport visit to a school, and an office visit (no coordinator).
EAZY_VISIT: dict[str, str] = {
    "kind": "eazy",
    "on": "2026-12-01",
    "session_name": "pagi",
    "site": "SMAN 1 Karawang",
    "coordinator_name": "Budi Santoso",
    "coordinator_phone": "081234567890",
}
OFFICE_VISIT: dict[str, str] = {
    "kind": "office",
    "on": "2026-12-01",
    "session_name": "pagi",
    "site": "Kanim Karawang",
}


def new_vault(
    home: Path,
    *,
    officer_id: str = SUP,
    name: str = SUP_NAME,
    passphrase: str = SUP_PW,
    officers_: Sequence[tuple[str, str, str, str]] = (),
    params: kdf.KdfParams = kdf.INSECURE_TEST_PARAMS,
) -> UnlockedVault:
    """A new vault in ``home``, unlocked by its supervisor; ``officers_`` are added to it.

    ``officers_`` holds ``(officer_id, name, role, passphrase)`` tuples.
    """
    session = Vault.create(
        home, officer_id=officer_id, name=name, passphrase=passphrase, params=params
    )
    for other, other_name, role, other_pw in officers_:
        officers.add_officer(session, other, other_name, role, other_pw, params=params)
    return session


class VaultHome:
    """One vault home on disk, and every Vault opened on it (:meth:`close_all` at teardown)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.opened: list[Vault] = []

    @property
    def db(self) -> Path:
        """The vault's database file."""
        return vault_path(self.home)

    def create(self) -> UnlockedVault:
        """Create the vault (:func:`new_vault`), unlocked by its supervisor."""
        session = new_vault(self.home)
        self.opened.append(session.vault)
        return session

    def open(self) -> Vault:
        """Open the vault file (locked), as after a restart."""
        vault = Vault.open(self.home)
        self.opened.append(vault)
        return vault

    def unlock(
        self, officer_id: str = SUP, passphrase: str = SUP_PW, *, allow_test_kdf: bool = True
    ) -> UnlockedVault:
        """Reopen the file (as after a restart) and unlock it (test-KDF slots allowed)."""
        return self.open().unlock(officer_id, passphrase, allow_test_kdf=allow_test_kdf)

    def close_all(self) -> None:
        """Close every Vault opened here."""
        for vault in self.opened:
            vault.close()
        self.opened.clear()

    def sql(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the file directly (a separate connection: what is really on disk)."""
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()

    def files(self) -> dict[str, bytes]:
        """The raw bytes of every file under the vault home (db, -wal, -shm, anything)."""
        return {p.name: p.read_bytes() for p in self.home.rglob("*") if p.is_file()}


def reseal_settings(session: UnlockedVault) -> None:
    """Re-seal the vault's authenticated settings as they are now (``fieldkit.vault.metaauth``).

    For a test that sets up a state with SQL the way fieldkit itself would have written it
    (an acknowledgement time, a reference version): fieldkit re-seals in the same transaction,
    so without this the next unlock, sync or purge refuses the vault as altered.
    """
    from fieldkit.vault import db, metaauth

    with db.transaction(session.conn):
        metaauth.rebuild_acknowledged(session.conn)
        session.seal_settings()
    session.vault.reload_meta()


def reopen(home: Path, officer_id: str = SUP, passphrase: str = SUP_PW) -> UnlockedVault:
    """Open the vault in ``home`` and unlock it."""
    return Vault.open(home).unlock(officer_id, passphrase, allow_test_kdf=True)


def people(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` synthetic applicants (the JSON an officer's form sends), from ``seed``."""
    return [p.as_json() for p in synthetic_applicants(count, seed)]


def plan_visit(session: UnlockedVault, **changes: str) -> str:
    """Plan a visit (:data:`EAZY_VISIT`, with ``changes``); its id."""
    return visits.create_visit(OfficerSession(session), **{**EAZY_VISIT, **changes})


def plan_office_visit(session: UnlockedVault, **changes: str) -> str:
    """Plan an office visit (:data:`OFFICE_VISIT`, with ``changes``); its id."""
    return visits.create_visit(OfficerSession(session), **{**OFFICE_VISIT, **changes})


def visit_ids(session: UnlockedVault) -> list[str]:
    """The ids of the vault's visits."""
    return [v.id for v in visits.list_visits(OfficerSession(session))]


def add_applicants(
    session: UnlockedVault,
    visit_id: str,
    raw: Sequence[dict[str, Any]],
    on: date | None = None,
) -> list[str]:
    """Capture ``raw`` applicants at ``visit_id`` in one action; their ids."""
    return service_applicants.add_applicants(OfficerSession(session), visit_id, list(raw), on=on)


def capture(
    session: UnlockedVault, visit_id: str, count: int, seed: int, per_save: int | None = None
) -> list[str]:
    """Capture ``count`` synthetic applicants at ``visit_id``, ``per_save`` per action (all)."""
    raw = people(count, seed)
    step = per_save or max(count, 1)
    ids: list[str] = []
    for start in range(0, count, step):
        ids += add_applicants(session, visit_id, raw[start : start + step])
    return ids


def show_applicant(
    session: UnlockedVault, applicant_id: str, version: int | None = None
) -> Applicant:
    """Look at an applicant (audited, as the counter's screen does)."""
    return service_applicants.show_applicant(OfficerSession(session), applicant_id, version)


def applicant_history(session: UnlockedVault, applicant_id: str) -> list[Applicant]:
    """Look at an applicant's versions (audited)."""
    return service_applicants.applicant_history(OfficerSession(session), applicant_id)


def cli_env(
    home: Path, officer_id: str = SUP, passphrase: str = SUP_PW, **extra: str
) -> dict[str, str]:
    """The environment of a ``fieldkit`` command run by ``officer_id`` on the vault in ``home``."""
    return {
        "FIELDKIT_HOME": str(home),
        "FIELDKIT_INSECURE_TEST_KDF": "1",
        "FIELDKIT_OFFICER": officer_id,
        "FIELDKIT_PASSPHRASE": passphrase,
        **extra,
    }


def no_wait_client(hq_url: str, session: UnlockedVault, **options: Any) -> SyncClient:
    """A sync client for ``session`` that does not wait between tries (``sleep`` is a no-op)."""
    return SyncClient(hq_url, session, sleep=lambda _: None, **options)


def enrolled_vault(
    home: Path, hq_url: str, code: str, applicants: int = 0, seed: int = 1
) -> UnlockedVault:
    """A new vault enrolled with the HQ at ``hq_url`` (``SyncClient.enroll`` with ``code``).

    With ``applicants``, it also holds one planned visit (:func:`plan_visit`) and that many
    synthetic applicants captured in one action.
    """
    session = new_vault(home)
    SyncClient(hq_url, session).enroll(code)
    if applicants:
        add_applicants(session, plan_visit(session), people(applicants, seed))
    return session
