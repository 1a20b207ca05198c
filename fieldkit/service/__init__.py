"""The application layer: every officer action, for the ``fieldkit`` CLI and the field app.

The CLI and the field app call these modules and nothing below them (import-linter enforces
it): :mod:`~fieldkit.service.session` (create, unlock, lock), :mod:`~fieldkit.service.visits`,
:mod:`~fieldkit.service.roster`, :mod:`~fieldkit.service.applicants`,
:mod:`~fieldkit.service.officers`, :mod:`~fieldkit.service.sync`,
:mod:`~fieldkit.service.status`, :mod:`~fieldkit.service.purge`,
:mod:`~fieldkit.service.audit`, and the error types in :mod:`~fieldkit.service.errors`.

This layer owns the rules a caller must not forget: an officer HQ revoked is refused before a
passphrase is asked for; every view or export of personal data is written to the audit log;
nothing new is captured on a device HQ revoked or into a visit HQ withdrew. Reads return typed
views (:class:`~fieldkit.service.visits.Visit`, :class:`~fieldkit.service.roster.RosterEntry`,
:class:`~fieldkit.service.applicants.Applicant`), never the vault's records.

Threading rule: one :class:`~fieldkit.service.session.OfficerSession` may be used from the
main thread and from worker threads at the same time. Each thread talks to the vault file
over its own SQLite connection, so calls are serialised by SQLite's WAL locking exactly as two
processes would be: one write transaction at a time (a writer waits for the other, up to
30 s), reads never blocked, nothing half-written ever seen. Long work (sync, roster import,
purge) takes a ``progress(done, total)`` callback and a :class:`~fieldkit.service.progress.Cancel`
token; a progress callback runs on the worker's thread (a Textual app posts a message from it).
"""
