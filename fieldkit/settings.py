"""One typed settings object for the field app, the ``fieldkit`` CLI and the HQ service.

Read once, at start, by :func:`load_settings`: each setting comes from its environment variable
when that is set, else from the TOML file, else its default. The file is
``$FIELDKIT_CONFIG``, or ``config.toml`` in the platform's user config directory
(``~/.config/fieldkit/config.toml`` on Linux); it is optional. Passphrases are never read from
the file, only from the environment (for scripts and tests), a prompt, or (HQ's) a file of
their own that the file may name (``hq_passphrase_file``). docs/configuration.md
lists every setting.

Nothing below the CLI, the field app and HQ's entry points reads the environment: they pass
the values they took from here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

import platformdirs

from fieldkit.domain.findings import Message

Lang = Literal["id", "en"]

CONFIG_ENV = "FIELDKIT_CONFIG"
# systemd credentials (systemd.exec(5), "Credentials"): HQ's passphrase as a service reads it.
CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"
HQ_PASSPHRASE_CREDENTIAL = "fieldkit-hq-passphrase"
DEFAULT_RETENTION_DAYS = 7
DEFAULT_LOCK_AFTER_MINUTES = 5


class SettingsError(Exception):
    """The configuration file or an environment variable holds a value fieldkit cannot use.

    ``message`` says it in both languages: the language setting itself may be what failed.
    """

    exit_code = 2

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("fieldkit", appauthor=False))


def _default_hq_home() -> Path:
    return Path(platformdirs.user_data_dir("fieldkit-hq", appauthor=False))


def default_config_file() -> Path:
    """Where the optional TOML file is looked for when ``FIELDKIT_CONFIG`` is not set."""
    return Path(platformdirs.user_config_dir("fieldkit", appauthor=False)) / "config.toml"


def _setting(env: str, *, file: bool = True, secret: bool = False) -> dict[str, object]:
    return {"env": env, "file": file and not secret, "secret": secret}


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of fieldkit and fieldkit-hq, with its default."""

    lang: Lang = field(default="id", metadata=_setting("FIELDKIT_LANG"))
    """Language of messages: ``id`` (Bahasa Indonesia) or ``en``. Anything else means ``id``."""
    home: Path = field(default_factory=_default_home, metadata=_setting("FIELDKIT_HOME"))
    """The folder that holds the laptop's vault (created 0700 by ``fieldkit init``)."""
    officer: str | None = field(default=None, metadata=_setting("FIELDKIT_OFFICER"))
    """The officer id commands unlock as when ``--officer`` is not given."""
    passphrase: str | None = field(
        default=None, repr=False, metadata=_setting("FIELDKIT_PASSPHRASE", secret=True)
    )
    """The officer's passphrase, for scripts; otherwise it is asked for."""
    new_passphrase: str | None = field(
        default=None, repr=False, metadata=_setting("FIELDKIT_NEW_PASSPHRASE", secret=True)
    )
    """A new officer's or a changed passphrase, for scripts; otherwise it is asked for."""
    supervisor_passphrase: str | None = field(
        default=None, repr=False, metadata=_setting("FIELDKIT_SUPERVISOR_PASSPHRASE", secret=True)
    )
    """The approving supervisor's passphrase (``visit close``), for scripts; else asked for."""
    kit_file: Path | None = field(default=None, metadata=_setting("FIELDKIT_KIT_FILE"))
    """A JSON file of the items a visit's kit checklist starts from; unset: the packaged list."""
    retention_days: int = field(
        default=DEFAULT_RETENTION_DAYS, metadata=_setting("FIELDKIT_RETENTION_DAYS")
    )
    """Days personal data and sealed batches stay on the laptop after HQ's receipt."""
    insecure_test_kdf: bool = field(
        default=False, metadata=_setting("FIELDKIT_INSECURE_TEST_KDF", file=False)
    )
    """Tests only: cheap key derivation. A slot made this way unlocks only while it is on."""
    hq_home: Path = field(default_factory=_default_hq_home, metadata=_setting("FIELDKIT_HQ_HOME"))
    """HQ's folder: its sealed private keys and, by default, its SQLite store."""
    hq_db: str | None = field(default=None, metadata=_setting("FIELDKIT_HQ_DB"))
    """HQ's store: a ``postgresql://…`` URL in production; unset means SQLite in ``hq_home``."""
    hq_passphrase: str | None = field(
        default=None, repr=False, metadata=_setting("FIELDKIT_HQ_PASSPHRASE", secret=True)
    )
    """Unlocks HQ's private keys, for services; otherwise it is asked for."""
    hq_body_timeout: int = field(default=120, metadata=_setting("FIELDKIT_HQ_BODY_TIMEOUT"))
    """Seconds an HQ worker waits for a request's whole body before answering 408."""
    hq_max_bodies: int = field(default=16, metadata=_setting("FIELDKIT_HQ_MAX_BODIES"))
    """Request bodies an HQ worker receives at once; more are answered 503 (devices retry)."""
    hq_max_ingests: int = field(default=4, metadata=_setting("FIELDKIT_HQ_MAX_INGESTS"))
    """Batches an HQ worker opens and checks at once; more are answered 503 (devices retry)."""
    hq_rejection_retention_days: int = field(
        default=90, metadata=_setting("FIELDKIT_HQ_REJECTION_RETENTION_DAYS")
    )
    """Days HQ keeps its log of refused requests (``rejections``) before pruning them."""
    hq_passphrase_file: Path | None = field(
        default=None, metadata=_setting("FIELDKIT_HQ_PASSPHRASE_FILE")
    )
    """A file (0600, or a systemd credential) holding HQ's passphrase: for services."""
    hq_tls_cert: Path | None = field(default=None, metadata=_setting("FIELDKIT_HQ_TLS_CERT"))
    """``fieldkit-hq serve``: the PEM certificate (chain) HQ serves HTTPS with."""
    hq_tls_key: Path | None = field(default=None, metadata=_setting("FIELDKIT_HQ_TLS_KEY"))
    """``fieldkit-hq serve``: the PEM private key of ``hq_tls_cert``."""
    hq_ca_bundle: Path | None = field(default=None, metadata=_setting("FIELDKIT_HQ_CA_BUNDLE"))
    """The laptop: the PEM certificates it trusts for HQ (HQ's CA, or HQ's own certificate)."""
    lock_after_minutes: int = field(
        default=DEFAULT_LOCK_AFTER_MINUTES, metadata=_setting("FIELDKIT_LOCK_AFTER_MINUTES")
    )
    """The field app locks itself after this many minutes without a key pressed (1 or more)."""
    keymap: Mapping[str, str] = field(default_factory=dict, metadata=_setting("FIELDKIT_KEYMAP"))
    """The field app's keys remapped: binding id to keys, e.g. ``sync_now = "f9"`` in a
    ``[keymap]`` table (the environment: ``sync_now=f9;lock=f12``). F1 shows the ids."""
    config_file: Path | None = None
    """The TOML file the settings were read from, if there was one."""


SETTINGS = tuple(f for f in fields(Settings) if "env" in f.metadata)
# HQ's limits on clients (sync.hq.api.limits): whole numbers, at least 1.
_HQ_COUNTS = frozenset(
    {
        "hq_body_timeout",
        "hq_max_bodies",
        "hq_max_ingests",
        "hq_rejection_retention_days",
        "lock_after_minutes",
    }
)
# Settings that name a file (optional: empty means unset).
_FILE_PATHS = frozenset(
    {"hq_passphrase_file", "hq_tls_cert", "hq_tls_key", "hq_ca_bundle", "kit_file"}
)


def _convert(name: str, raw: object, where: str) -> object:
    if name == "lang":
        text = str(raw).strip().lower()
        return text if text in ("id", "en") else "id"
    if name in ("home", "hq_home"):
        if not isinstance(raw, str) or not raw.strip():
            raise SettingsError(
                Message(
                    f"{where}: {name} harus path folder.", f"{where}: {name} must be a folder path."
                )
            )
        return Path(raw).expanduser()
    if name in _FILE_PATHS:
        if not isinstance(raw, str):
            raise SettingsError(
                Message(
                    f"{where}: {name} harus path berkas.", f"{where}: {name} must be a file path."
                )
            )
        return Path(raw.strip()).expanduser() if raw.strip() else None
    if name == "retention_days":
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.isdigit():
            raise SettingsError(
                Message(
                    f"{where}: retention_days harus bilangan hari (0 atau lebih), bukan {raw!r}.",
                    f"{where}: retention_days must be a whole number of days (0 or more), "
                    f"not {raw!r}.",
                )
            )
        return int(text)
    if name in _HQ_COUNTS:
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.isdigit() or int(text) < 1:
            raise SettingsError(
                Message(
                    f"{where}: {name} harus bilangan bulat 1 atau lebih, bukan {raw!r}.",
                    f"{where}: {name} must be a whole number, 1 or more, not {raw!r}.",
                )
            )
        return int(text)
    if name == "keymap":
        return _keymap(raw, where)
    if name == "insecure_test_kdf":
        return str(raw).strip() == "1"
    if Settings.__dataclass_fields__[name].metadata["secret"]:
        return raw  # a passphrase is taken as typed: spaces at its ends are part of it
    if not isinstance(raw, str):
        raise SettingsError(
            Message(f"{where}: {name} harus berupa teks.", f"{where}: {name} must be text.")
        )
    return raw.strip() or None


def _keymap(raw: object, where: str) -> dict[str, str]:
    """``{binding id: keys}`` from a TOML table, or ``id=keys;id=keys`` from the environment."""
    if isinstance(raw, str):
        pairs = [p.partition("=") for p in raw.split(";") if p.strip()]
        raw = {k.strip(): v.strip() for k, sep, v in pairs if sep}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw.items()
    ):
        raise SettingsError(
            Message(
                f'{where}: keymap harus tabel id tombol = "tombol" (mis. sync_now = "f9").',
                f'{where}: keymap must be a table of binding id = "keys" (e.g. sync_now = "f9").',
            )
        )
    return {str(k).strip(): str(v).strip() for k, v in raw.items()}


def _read_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(
            Message(
                f"{path}: tidak dapat dibaca sebagai TOML ({exc}).",
                f"{path}: cannot be read as TOML ({exc}).",
            )
        ) from None
    allowed = {f.name for f in SETTINGS if f.metadata["file"]}
    unknown = sorted(set(document) - allowed)
    if unknown:
        named, may = ", ".join(unknown), ", ".join(sorted(allowed))
        raise SettingsError(
            Message(
                f"{path}: pengaturan tidak dikenal {named}; berkas ini boleh memuat {may} "
                "(kata sandi hanya lewat variabel lingkungan).",
                f"{path}: unknown setting(s) {named}; the file may hold {may} "
                "(passphrases only in the environment).",
            )
        )
    return document


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting once: environment, then the TOML file, then the default.

    Raises :class:`SettingsError` naming the file or variable and the value it cannot use.
    """
    env = os.environ if environ is None else environ
    configured = env.get(CONFIG_ENV, "").strip()
    path = Path(configured).expanduser() if configured else default_config_file()
    document = _read_file(path)
    values: dict[str, object] = {}
    for setting in SETTINGS:
        variable = str(setting.metadata["env"])
        if env.get(variable, "").strip():
            values[setting.name] = _convert(setting.name, env[variable], variable)
        elif setting.name in document:
            values[setting.name] = _convert(setting.name, document[setting.name], str(path))
    if "hq_passphrase_file" not in values:
        # systemd's LoadCredential=fieldkit-hq-passphrase:… puts it here, readable by the
        # service only, and never in an environment.
        credentials = env.get(CREDENTIALS_ENV, "").strip()
        credential = Path(credentials) / HQ_PASSPHRASE_CREDENTIAL if credentials else None
        if credential is not None and credential.is_file():
            values["hq_passphrase_file"] = credential
    return Settings(**values, config_file=path if path.exists() else None)  # type: ignore[arg-type]
