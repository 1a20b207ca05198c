"""Where the officer was: the screens (and the form) kept across a lock, and brought back.

Each screen that can be returned to has a ``place()``: a small dict naming it and what it
shows (``{"screen": "checkin", "visit_id": …}``; the applicant screen adds the form's values).
At a lock the places are sealed in the vault as the officer's draft; at that officer's next
unlock :func:`restore` pushes the same screens again, the form as it was.
"""

from __future__ import annotations

from typing import Any

from textual import work

from fieldkit.service import drafts
from fieldkit.service.errors import IntegrityError
from fieldkit.service.session import OfficerSession

# The app (fieldkit.tui.app.FieldApp) imports this module: it is taken as a Textual App here.
FieldApp = Any


def current_places(app: FieldApp) -> dict[str, object]:
    """The screens open now, bottom first, as :func:`restore` takes them."""
    places = []
    for screen in app.screen_stack:
        place = getattr(screen, "place", None)
        if callable(place):
            places.append(place())
    return {"format": 1, "screens": places}


def restore(app: FieldApp, session: OfficerSession) -> None:
    """Show the officer's day again: the visits, then what the lock kept (in a worker)."""
    _take(app, session)


@work(thread=True, exclusive=True, group="restore", exit_on_error=False)
def _take(app: FieldApp, session: OfficerSession) -> None:
    try:
        kept = drafts.take_draft(session)
    except IntegrityError as exc:
        # Altered, or sealed under a data key since retired: said, removed, not fatal.
        drafts.drop_draft(session)
        app.call_from_thread(app.notify, exc.text(app.lang), severity="error", timeout=10)
        kept = None
    app.call_from_thread(push_places, app, kept)


def push_places(app: FieldApp, kept: dict[str, object] | None) -> None:
    """Push the screens ``kept`` names (the visits when it names none)."""
    from fieldkit.tui.screens.applicant import ApplicantScreen
    from fieldkit.tui.screens.checkin import CheckinScreen
    from fieldkit.tui.screens.visits import VisitsScreen

    places = kept.get("screens") if isinstance(kept, dict) else None
    if not isinstance(places, list) or not places:
        places = [{"screen": "visits"}]
    for place in places:
        if not isinstance(place, dict):
            continue
        name = place.get("screen")
        if name == "visits":
            app.push_screen(VisitsScreen())
        elif name == "checkin" and isinstance(place.get("visit_id"), str):
            app.push_screen(CheckinScreen(str(place["visit_id"])))
        elif name == "applicant" and isinstance(place.get("applicant_id"), str):
            form = place.get("form")
            app.push_screen(
                ApplicantScreen(
                    str(place["applicant_id"]), restored=form if isinstance(form, dict) else None
                )
            )
