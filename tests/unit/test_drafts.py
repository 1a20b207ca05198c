"""A form kept across a lock: sealed on disk, only for its officer, refused when altered."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.service import drafts
from fieldkit.service.errors import IntegrityError
from fieldkit.service.session import OfficerSession
from fieldkit.vault.vault import Vault
from tests.support.vault import OFF2, OFF2_NAME, OFF2_PW, new_vault

FORM = {"screens": [{"screen": "applicant", "form": {"texts": {"notes": "akta kelahiran asli"}}}]}


def _draft_files(home: Path) -> list[Path]:
    return sorted((home / "drafts").glob("*.draft"))


def test_a_draft_is_sealed_and_comes_back_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    session = OfficerSession(new_vault(home))
    drafts.keep_draft(session, FORM)
    [path] = _draft_files(home)
    assert b"akta kelahiran" not in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0
    assert drafts.take_draft(session) == FORM
    assert drafts.take_draft(session) is None
    assert _draft_files(home) == []


def test_another_officer_does_not_get_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sup = new_vault(home, officers_=[(OFF2, OFF2_NAME, "officer", OFF2_PW)])
    drafts.keep_draft(OfficerSession(sup), FORM)
    other = Vault.open(home).unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    assert drafts.peek_draft(OfficerSession(other)) is None
    # Copied under the other officer's name, it does not open: the officer is bound in.
    [path] = _draft_files(home)
    path.rename(path.with_name(f"{OFF2}.form.draft"))
    with pytest.raises(IntegrityError):
        drafts.peek_draft(OfficerSession(other))


def test_an_altered_draft_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    session = OfficerSession(new_vault(home))
    drafts.keep_draft(session, FORM)
    [path] = _draft_files(home)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError):
        drafts.take_draft(session)
    drafts.drop_draft(session)
    assert _draft_files(home) == []
