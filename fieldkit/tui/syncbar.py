"""The sync line at the bottom of every screen: online or not, what waits, what HQ has."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from textual.widgets import Static

from fieldkit.domain.findings import Message
from fieldkit.settings import Lang
from fieldkit.tui.base import Words
from fieldkit.tui.words import say


@dataclass(frozen=True, slots=True)
class SyncView:
    """What the sync line shows; the app replaces it as the sync worker learns more."""

    enrolled: bool = False
    online: bool = False
    waiting: int = 0
    oldest_waiting_at: str | None = None
    last_acked_at: str | None = None
    running: tuple[int, int] | None = None
    revoked: bool = False
    problems: tuple[Message, ...] = field(default=())


def age(at: str | None, lang: Lang, now: datetime | None = None) -> str:
    """How long ago an ISO time was, in the officer's words ("12 mnt", "3 jam")."""
    if at is None:
        return say(lang, "sync.never")
    try:
        then = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    minutes = int(((now or datetime.now(UTC)) - then).total_seconds() // 60)
    if minutes < 1:
        return say(lang, "age.now")
    if minutes < 60:
        return say(lang, "age.minutes", n=minutes)
    if minutes < 48 * 60:
        return say(lang, "age.hours", n=minutes // 60)
    return say(lang, "age.days", n=minutes // (24 * 60))


def describe(view: SyncView, lang: Lang) -> str:
    """The sync line's text."""
    if view.revoked:
        return f"● {say(lang, 'sync.revoked')}"
    if not view.enrolled:
        parts = [f"○ {say(lang, 'sync.not_enrolled')}"]
    else:
        parts = [
            f"● {say(lang, 'sync.online')}" if view.online else f"○ {say(lang, 'sync.offline')}"
        ]
    if view.running is not None:
        done, total = view.running
        parts.append(say(lang, "sync.running", done=done, total=total))
    if view.waiting:
        parts.append(say(lang, "sync.waiting", count=view.waiting))
        parts.append(say(lang, "sync.oldest", age=age(view.oldest_waiting_at, lang)))
    elif view.enrolled:
        parts.append(say(lang, "sync.done"))
    parts.append(say(lang, "sync.last", when=age(view.last_acked_at, lang)))
    parts.extend(say(lang, "sync.problem", text=p.text(lang)) for p in view.problems)
    return " · ".join(parts)


class SyncBar(Words, Static):
    """Shows the app's :class:`SyncView`, refreshed whenever it changes."""

    def on_mount(self) -> None:
        """Follow the app's sync view."""
        self.watch(self.field_app, "sync_view", self._show)

    def _show(self, view: SyncView) -> None:
        self.update(describe(view, self.lang))
        self.set_class(bool(view.problems) or view.revoked, "-problem")
