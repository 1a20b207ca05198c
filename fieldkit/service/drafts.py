"""A form in progress kept across a lock: sealed for the officer who was typing it.

The field app saves the form on screen here when it locks itself after idle time, and reads
it back when the same officer unlocks (see :mod:`fieldkit.vault.drafts`: AES-256-GCM under the
vault's data key, never sent to HQ). A draft is not a record: nothing is checked or audited
until the officer saves the form.
"""

from __future__ import annotations

from fieldkit.service.session import OfficerSession
from fieldkit.vault import drafts

FORM = "form"
"""The one draft the field app keeps: the form that was open when the laptop locked."""


def keep_draft(session: OfficerSession, data: dict[str, object], name: str = FORM) -> None:
    """Seal ``data`` as the unlocked officer's draft, replacing the one held."""
    drafts.save_draft(session.unlocked, name, data)


def take_draft(session: OfficerSession, name: str = FORM) -> dict[str, object] | None:
    """The unlocked officer's draft, removed from the vault (None when there is none)."""
    data = drafts.load_draft(session.unlocked, name)
    if data is not None:
        drafts.discard_draft(session.unlocked, name)
    return data


def peek_draft(session: OfficerSession, name: str = FORM) -> dict[str, object] | None:
    """The unlocked officer's draft, left in place (None when there is none)."""
    return drafts.load_draft(session.unlocked, name)


def drop_draft(session: OfficerSession, name: str = FORM) -> None:
    """Delete the unlocked officer's draft unread (one that no longer opens)."""
    drafts.discard_draft(session.unlocked, name)
