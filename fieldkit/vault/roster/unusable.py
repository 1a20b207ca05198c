"""Refusing a roster file as a whole: nothing of it is imported."""

from __future__ import annotations

from fieldkit.domain.findings import Message, error
from fieldkit.vault.errors import InvalidInput


def unusable(code: str, id: str, en: str) -> InvalidInput:
    """The error for a file that cannot be used: one ``file`` finding, in both languages."""
    return InvalidInput(
        Message(
            f"{id} Tidak ada yang diimpor.",
            f"{en} Nothing was imported.",
        ),
        [(0, error(code, "file", id, en))],
    )


def empty() -> InvalidInput:
    """The error for a file without data rows (``roster.empty``)."""
    return unusable(
        "roster.empty",
        "Berkas tidak berisi baris data.",
        "The file holds no data rows.",
    )
