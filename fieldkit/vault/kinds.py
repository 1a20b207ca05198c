"""The kinds of record the vault holds, and the states the sync layer gives them."""

from __future__ import annotations

VISIT = "visit"
APPLICANT = "applicant"
ROSTER = "roster"
# The state HQ's withdrawal gives a visit and its roster entries (sync.device.reference).
WITHDRAWN = "withdrawn"
# A visit's kit checklist and its queue counters (one record of each per visit).
KIT = "kit"
QUEUE = "queue"
