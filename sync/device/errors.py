"""How a sync fails: the field client's errors, HQ's problem details and what the officer reads.

Every error is a :class:`SyncError` (a :class:`~fieldkit.vault.errors.VaultError`) carrying a
message in Bahasa Indonesia and English and the exit code of ``fieldkit sync``. HQ's refusals
arrive as RFC 9457 problem details (:class:`HqProblem`) and are worded for the officer by
:func:`problem_message`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import requests

from fieldkit.domain.findings import Message
from fieldkit.vault.errors import VaultError
from fieldkit.vault.syncstate import StoredBatch

# The exit codes of ``fieldkit sync`` (docs/sync.md); 2 (usage) is :class:`BadHqUrl`'s.
EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNTRUSTED = 3
EXIT_PARTIAL = 4


class SyncError(VaultError):
    """A sync failure with a message for the officer (and the CLI's exit code)."""


class BadHqUrl(SyncError):
    """The HQ address is not usable (usage error)."""

    exit_code = 2


class NotEnrolled(SyncError):
    """The device has not enrolled with HQ yet."""


class AlreadyEnrolled(SyncError):
    """The device is already enrolled; enrolling again would orphan its batches."""


class HqRefused(SyncError):
    """HQ answered with a 4xx other than 429: not retried."""

    def __init__(self, message: Message, problem: HqProblem) -> None:
        super().__init__(message)
        self.problem = problem

    @classmethod
    def from_response(cls, response: requests.Response) -> HqRefused:
        """HQ's refusal in ``response`` (its problem detail), worded for the officer."""
        problem = HqProblem.from_response(response)
        return cls(problem_message(problem), problem)


class HqUntrusted(SyncError):
    """A document from HQ failed verification against the pinned key (or did not match)."""

    exit_code = EXIT_UNTRUSTED


class ReceiptNotOurs(SyncError):
    """A valid receipt for another device (a USB stick shared by several laptops)."""


class NetworkUnavailable(SyncError):
    """HQ could not be reached (or kept failing) within the retry budget."""

    exit_code = EXIT_PARTIAL


class SyncCancelled(Exception):
    """:meth:`sync.client.SyncClient.cancel` was called while waiting or between requests."""


# -- HQ's answers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HqProblem:
    """An RFC 9457 problem detail from HQ (or what could be made of a non-problem answer)."""

    status: int
    type: str
    title: str
    detail: str

    @property
    def slug(self) -> str:
        """The last part of the problem type, e.g. ``device-revoked``."""
        return self.type.rstrip("/").rsplit("/", 1)[-1] if self.type else ""

    @classmethod
    def from_response(cls, response: requests.Response) -> HqProblem:
        """Read the problem detail of an error response, tolerating a body that is not one."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        return cls(
            status=response.status_code,
            type=str(body.get("type") or ""),
            title=str(body.get("title") or response.reason or ""),
            detail=str(body.get("detail") or ""),
        )

    def as_json(self) -> dict[str, object]:
        """The problem as JSON."""
        return {
            "status": self.status,
            "type": self.type,
            "title": self.title,
            "detail": self.detail,
        }


# Problems that concern the device, not one batch: no other batch can succeed either. The
# first three answer only device-signed requests (the checkpoint, the reference data).
DEVICE_PROBLEMS = frozenset(
    {
        "unauthenticated",
        "clock-skew",
        "device-mismatch",
        "device-revoked",
        "unknown-device",
        "bad-signature",
        "unknown-hq-key",
    }
)


def problem_message(problem: HqProblem, batch: StoredBatch | None = None) -> Message:
    """What an officer reads for HQ's refusal, in both languages."""
    why = (problem.detail or problem.title or str(problem.status)).rstrip(".")
    which = f"Batch {batch.seq} ({batch.batch_id}) " if batch else ""
    slug = problem.slug
    if slug == "device-revoked":
        return Message(
            f"Perangkat ini dicabut di HQ: {why}. Tidak ada yang dikirim; data tetap aman di "
            "laptop. Hubungi HQ.",
            f"This device was revoked at HQ: {why}. Nothing was sent; the data stays safe on "
            "this laptop. Contact HQ.",
        )
    if slug == "unknown-device":
        return Message(
            f"HQ tidak mengenal perangkat ini: {why}. Daftarkan ulang dengan 'fieldkit enroll'.",
            f"HQ does not know this device: {why}. Enroll it again with 'fieldkit enroll'.",
        )
    if slug == "enroll-code-invalid":
        return Message(
            f"Kode pendaftaran ditolak (kedaluwarsa atau sudah dipakai): {why}. Minta kode baru "
            "ke HQ.",
            f"The enrollment code was refused (expired or already used): {why}. Ask HQ for a "
            "new code.",
        )
    if slug == "unknown-hq-key":
        return Message(
            f"{which}disegel untuk kunci HQ yang tidak berlaku lagi ({why}). Hubungi HQ untuk "
            "pendaftaran ulang; data tetap aman di laptop.",
            f"{which}is sealed to an HQ key that is no longer current ({why}). Contact HQ to "
            "enroll again; the data stays safe on this laptop.",
        )
    if slug == "clock-skew":
        return clock_skew_message(problem)
    if slug == "unauthenticated":
        return Message(
            f"HQ tidak menerima tanda tangan perangkat ini pada permintaan ({why}). Proxy di "
            "jaringan ini mungkin membuangnya, atau versi fieldkit di laptop ini terlalu lama "
            "untuk HQ: coba jaringan lain atau perbarui fieldkit; sementara itu kirim data lewat "
            "USB ('fieldkit sync export'). Data tetap aman di laptop.",
            f"HQ did not get this device's signature on the request ({why}). A proxy on this "
            "network may strip it, or this laptop's fieldkit is too old for HQ: try another "
            "network or update fieldkit; meanwhile send the data by USB ('fieldkit sync "
            "export'). The data stays safe on this laptop.",
        )
    if slug == "device-mismatch":
        return Message(
            f"HQ menolak: permintaan ditandatangani perangkat lain daripada perangkat yang "
            f"datanya diminta ({why}). Tidak ada yang dikirim; data tetap aman di laptop. "
            "Laporkan ke HQ.",
            f"HQ refused: the request was signed by another device than the one whose data it "
            f"asks for ({why}). Nothing was sent; the data stays safe on this laptop. Report it "
            "to HQ.",
        )
    if slug == "device-exists":
        return Message(
            f"Perangkat ini sudah terdaftar di HQ: {why}. Tanyakan ke HQ.",
            f"This device is already enrolled at HQ: {why}. Ask HQ.",
        )
    if slug in {"batch-id-reused", "sequence-reused"}:
        return Message(
            f"{which}ditolak HQ: nomornya sudah dipakai batch lain ({why}). Laptop ini "
            "mungkin dipulihkan dari salinan lama; laporkan ke HQ.",
            f"{which}was refused by HQ: its number was used by another batch ({why}). This "
            "laptop may have been restored from an old copy; report it to HQ.",
        )
    return Message(
        f"{which}ditolak HQ ({problem.status} {slug or problem.title}): {why}. Laporkan ke HQ.",
        f"{which}was refused by HQ ({problem.status} {slug or problem.title}): {why}. "
        "Report it to HQ.",
    )


def clock_skew_message(problem: HqProblem) -> Message:
    """What an officer reads when HQ refuses this laptop's time and it could not be set right.

    Either HQ's answer carried no valid signed time (``hq_time``) to sign with instead, or HQ
    refused the corrected time too (docs/sync.md, "HQ's clock").
    """
    why = (problem.detail or problem.title or str(problem.status)).rstrip(".")
    return Message(
        f"Jam laptop ini terlalu jauh dari jam HQ ({why}). Setel tanggal dan jam laptop, "
        "lalu coba lagi. Data tetap aman di laptop.",
        f"This laptop's clock is too far from HQ's ({why}). Set the laptop's date and time, "
        "then try again. The data stays safe on this laptop.",
    )


def _minutes(offset: timedelta) -> tuple[str, str]:
    """``offset`` as whole minutes (at least 1), with hours or days when it is that long."""
    minutes = max(1, round(abs(offset.total_seconds()) / 60))
    if minutes >= 2 * 24 * 60:
        days = round(minutes / (24 * 60))
        return f"{minutes} menit (sekitar {days} hari)", f"{minutes} minutes (about {days} days)"
    if minutes >= 90:
        hours = round(minutes / 60)
        return f"{minutes} menit (sekitar {hours} jam)", f"{minutes} minutes (about {hours} hours)"
    return f"{minutes} menit", f"{minutes} minute{'s' if minutes != 1 else ''}"


def clock_message(offset: timedelta, *, corrected: bool) -> Message:
    """The warning that this laptop's clock is off HQ's by ``offset`` (HQ's minus the laptop's).

    ``corrected``: HQ refused the laptop's time and this run signed its requests with HQ's
    time instead. Either way the laptop's clock should be set: what it captures is stamped
    with its own clock.
    """
    by_id, by_en = _minutes(offset)
    if offset > timedelta(0):
        where_id, where_en = f"{by_id} lebih lambat dari", f"{by_en} behind"
    else:
        where_id, where_en = f"{by_id} lebih cepat dari", f"{by_en} ahead of"
    if corrected:
        return Message(
            f"Jam laptop ini {where_id} jam HQ, sehingga HQ menolak waktunya; sinkronisasi ini "
            "menandatangani permintaan dengan jam HQ. Setel tanggal dan jam laptop: data yang "
            "dicatat memakai jam laptop.",
            f"This laptop's clock is {where_en} HQ's, so HQ refused its time; this sync signed "
            "its requests with HQ's time instead. Set the laptop's date and time: what it "
            "captures is stamped with the laptop's clock.",
        )
    return Message(
        f"Jam laptop ini {where_id} jam HQ. Setel tanggal dan jam laptop: data yang dicatat "
        "memakai jam laptop.",
        f"This laptop's clock is {where_en} HQ's. Set the laptop's date and time: what it "
        "captures is stamped with the laptop's clock.",
    )


class UntrustedReference(VaultError):
    """HQ's reference data does not verify, is not for this device, or goes back in version."""

    exit_code = 3
