"""Which passphrases may guard a key slot, and why a weak one is refused."""

from __future__ import annotations

from fieldkit.domain.findings import Message

MIN_LENGTH = 12
MIN_DISTINCT = 6
# A few of the passwords tried first by anyone holding a stolen laptop, in both languages.
_COMMON = {
    "password", "passw0rd", "katasandi", "rahasia", "imigrasi", "indonesia", "paspor",
    "qwerty", "admin", "letmein", "welcome", "bismillah", "merdeka", "sayang",
}  # fmt: skip


def passphrase_problem(passphrase: str, *, officer_id: str, name: str = "") -> Message | None:
    """Return why ``passphrase`` is too weak for a key slot, or None when it is acceptable.

    Rules: at least 12 characters, at least 6 different characters, not only digits, and not
    built around a common password, the officer id or the officer's name.
    """
    folded = passphrase.casefold()
    if len(passphrase) < MIN_LENGTH:
        return Message(
            f"Kata sandi terlalu pendek: minimal {MIN_LENGTH} karakter. Gunakan beberapa kata.",
            f"The passphrase is too short: at least {MIN_LENGTH} characters. Use several words.",
        )
    if len(set(folded)) < MIN_DISTINCT or passphrase.isdigit():
        return Message(
            "Kata sandi terlalu mudah ditebak: gunakan campuran huruf dan kata, bukan angka "
            "atau huruf berulang.",
            "The passphrase is too easy to guess: mix letters and words, not repeated "
            "characters or only digits.",
        )
    compact = "".join(ch for ch in folded if ch.isalnum())
    personal = [officer_id.casefold(), *name.casefold().split()]
    if any(word in compact for word in _COMMON) and len(compact) < 2 * MIN_LENGTH:
        return Message(
            "Kata sandi memuat kata sandi umum yang mudah ditebak; pilih kalimat lain.",
            "The passphrase is built on a common password; choose another phrase.",
        )
    if any(len(p) >= 3 and p in folded for p in personal):
        return Message(
            "Kata sandi tidak boleh memuat ID atau nama petugas.",
            "The passphrase must not contain the officer's id or name.",
        )
    return None
