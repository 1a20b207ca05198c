"""Queue numbers: per visit, one series for regular arrivals (A) and one for priority ones (P).

The counters live in the visit's queue record (``{"last": {"A": n, "P": n}}``); the service
writes the new counters and the applicant who took the number in one transaction, so the
numbers of each series run 1, 2, 3 … without gaps.
"""

from __future__ import annotations

from collections.abc import Mapping

from fieldkit.domain.counter import QUEUE_FORMAT, QueueSeries


def next_number(last: Mapping[str, int], series: QueueSeries | str) -> tuple[dict[str, int], int]:
    """The counters after handing out the next number of ``series``, and that number."""
    name = QueueSeries(series).value
    counters = {s.value: int(last.get(s.value, 0)) for s in QueueSeries}
    counters[name] += 1
    return counters, counters[name]


def empty_queue() -> dict[str, object]:
    """The data of a visit's queue record before anyone took a number."""
    return {"format": QUEUE_FORMAT, "last": {s.value: 0 for s in QueueSeries}, "walk_ins": 0}


def series_for(priority: bool) -> QueueSeries:
    """The series a person takes: P for the priority groups, else A."""
    return QueueSeries.PRIORITY if priority else QueueSeries.REGULAR
