"""Files only their owner can read, and files from a USB stick read without being fooled.

Shared by the laptop (the vault, USB export and receipts) and HQ (its keys, store and
``fieldkit-hq import``), so it imports nothing of ours but the domain's :class:`Message`.

- **Private files.** Everything fieldkit or SQLite creates is mode 0600 in a folder only its
  owner can enter (0700). :func:`private_folder` creates such a folder, or tightens one that
  group or others can enter, with a message (an existing folder usually got 0755 from a
  ``mkdir`` with the default umask; refusing it would stop every upgraded install for a fix
  we can make ourselves). A folder owned by another user, or one with the sticky bit (a shared
  folder such as ``/tmp``), is refused instead: changing it is not ours to do.
  :func:`create_private` makes a file 0600 before SQLite opens it; SQLite then gives its
  ``-wal``, ``-shm`` and ``-journal`` files the database file's own mode (os_unix.c,
  ``findCreateFileMode``), whatever the process umask, so no umask juggling is needed.
  :func:`tighten_file` sets an existing file of ours back to 0600, with a message.
- **Untrusted files.** :func:`read_regular` opens without following a symbolic link, refuses
  anything but a regular file (a FIFO, ``/dev/zero``) and reads at most the limit plus one
  byte. :func:`write_replacing` writes to a fresh, randomly named temporary file created
  exclusively in the target folder, then renames it over the target, so a planted link or a
  predictable ``.partial`` name is never written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from fieldkit.domain.findings import Message

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_OPEN_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class UnsafeFile(OSError):
    """A file or folder fieldkit will not use as it is; ``message`` says why, in both languages."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


class TooLarge(UnsafeFile):
    """A file over the size allowed for it (nothing past the limit was read)."""


def _mode(st: os.stat_result) -> str:
    return f"{stat.S_IMODE(st.st_mode):04o}"


def private_folder(path: Path) -> Message | None:
    """Create ``path`` (and parents) 0700, or make an existing folder 0700; say so if it was not.

    Returns the message for the operator when a loose folder was tightened, else None. Raises
    :class:`UnsafeFile` for a path that is not a folder (a link to one is followed: the
    operator chose it), a loose folder of another user, or one with the sticky bit.
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    except FileExistsError:
        raise UnsafeFile(Message(f"{path} bukan folder.", f"{path} is not a folder.")) from None
    st = path.stat()
    if not st.st_mode & 0o077:
        return None
    if st.st_mode & stat.S_ISVTX or st.st_uid != os.geteuid():
        raise UnsafeFile(
            Message(
                f"Folder {path} (mode {_mode(st)}) bisa dimasuki pengguna lain dan bukan milik "
                "fieldkit saja; pakai folder khusus (mode 0700) untuk data ini.",
                f"The folder {path} (mode {_mode(st)}) can be entered by other users and is not "
                "fieldkit's own; use a dedicated folder (mode 0700) for this data.",
            )
        )
    os.chmod(path, PRIVATE_FOLDER)
    return Message(
        f"Folder {path} tadinya bisa dimasuki pengguna lain (mode {_mode(st)}); sekarang 0700.",
        f"The folder {path} could be entered by other users (mode {_mode(st)}); it is now 0700.",
    )


def create_private(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True when it was created.

    An empty file is a valid empty SQLite database, so calling this before SQLite opens a
    database makes it, and the journal files SQLite derives from it, 0600.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.fchmod(fd, PRIVATE_FILE)  # the umask may have cleared bits, never added: made exact
    os.close(fd)
    return True


def tighten_file(path: Path) -> Message | None:
    """Make an existing regular file 0600 if group or others may read it; the message if so.

    A missing file, a link or anything but a regular file is left alone (None).
    """
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o077:
        return None
    os.chmod(path, PRIVATE_FILE)
    return Message(
        f"Berkas {path} tadinya bisa dibaca pengguna lain (mode {_mode(st)}); sekarang 0600.",
        f"The file {path} could be read by other users (mode {_mode(st)}); it is now 0600.",
    )


def read_regular(path: Path, limit: int, *, head: bool = False) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Never follows a symbolic link (``O_NOFOLLOW``), never blocks on a FIFO (``O_NONBLOCK``),
    refuses anything that is not a regular file once open (``fstat``), and reads at most
    ``limit + 1`` bytes: one more than allowed raises :class:`TooLarge`, unless ``head``
    (then the first ``limit`` bytes are the answer). Other failures to read raise
    :class:`UnsafeFile` with the reason.
    """
    try:
        fd = os.open(path, _OPEN_READ)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(
                Message(
                    f"{path.name} adalah tautan simbolik; hanya berkas biasa yang dibaca.",
                    f"{path.name} is a symbolic link; only regular files are read.",
                )
            ) from None
        raise UnsafeFile(
            Message(
                f"{path.name} tidak dapat dibaca ({exc.strerror}).",
                f"{path.name} cannot be read ({exc.strerror}).",
            )
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFile(
                Message(
                    f"{path.name} bukan berkas biasa (perangkat, FIFO atau folder); tidak dibaca.",
                    f"{path.name} is not a regular file (a device, FIFO or folder); not read.",
                )
            )
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        if isinstance(exc, UnsafeFile):
            raise
        raise UnsafeFile(
            Message(
                f"{path.name} tidak dapat dibaca ({exc.strerror}).",
                f"{path.name} cannot be read ({exc.strerror}).",
            )
        ) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if head:
        return data[:limit]
    if len(data) > limit:
        raise TooLarge(
            Message(
                f"{path.name} lebih dari {limit} byte; tidak dibaca.",
                f"{path.name} is over {limit} bytes; not read.",
            )
        )
    return data


def write_replacing(path: Path, data: bytes) -> None:
    """Write ``data`` as ``path``: a fresh temporary file in its folder, synced, then renamed.

    The temporary file is created exclusively (``O_CREAT | O_EXCL``, a random name, 0600), so
    nothing planted beside the target (a link named like the temporary file) is written
    through; the rename replaces a link at ``path`` itself, never the file it points to. A
    pulled USB stick never holds half a file.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
