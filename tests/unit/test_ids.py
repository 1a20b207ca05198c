"""Record ids: RFC 9562 version 7, time-ordered, unique."""

import time
import uuid

from fieldkit.domain import ids


def test_ids_are_version_7_ordered_and_unique():
    made = ids.new_ids(10_000) + [ids.new_id() for _ in range(100)] + ids.new_ids(5_000)
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    for text in made[::997]:
        parsed = uuid.UUID(text)
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_ids_carry_the_time_in_milliseconds():
    before = time.time_ns() // 1_000_000
    made = ids.new_id()
    after = time.time_ns() // 1_000_000
    stamp = int(made.replace("-", "")[:12], 16)
    # Bursts of more than 4,096 ids in a millisecond borrow later milliseconds.
    assert before <= stamp <= max(after, ids._last_ms)


def test_more_than_4096_ids_in_a_millisecond_stay_ordered():
    made = ids.new_ids(3 * 4096 + 7)
    stamps = [int(m.replace("-", "")[:12], 16) for m in made]
    assert stamps == sorted(stamps)
    assert len(set(made)) == len(made)
