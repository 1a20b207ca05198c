"""A batch whose seq is far beyond the device's highest is refused and flagged, on both stores."""

from __future__ import annotations

import pytest

from sync.hq import ingest, keys, store
from sync.hq.ingest import MAX_SEQ_AHEAD
from tests.support.hq import PASSPHRASE, enrolled_device


def test_a_seq_far_ahead_is_refused_flagged_and_logged_and_the_limit_itself_is_accepted(hq_home):
    device = enrolled_device(hq_home)
    engine = hq_home.engine()
    unlocked = keys.unlock(hq_home.home, PASSPHRASE)
    try:
        too_far = device.cut(seq=MAX_SEQ_AHEAD + 1)[1]
        with pytest.raises(ingest.HttpProblem) as refused:
            ingest.ingest(engine, unlocked, too_far, client="test")
        assert (refused.value.slug, refused.value.status) == ("sequence-too-far", 422)
        assert hq_home.count(store.batches) == 0 and hq_home.count(store.records) == 0
        [flag] = hq_home.rows(store.flags)
        assert flag["kind"] == "sequence-too-far" and flag["device_id"] == device.device_id
        [logged] = hq_home.rows(store.rejections)
        assert logged["problem"] == "sequence-too-far" and logged["seq"] == MAX_SEQ_AHEAD + 1

        at_limit = ingest.ingest(engine, unlocked, device.cut(seq=MAX_SEQ_AHEAD)[1], client="t")
        assert at_limit.status == 201
        # The limit moves with the highest seq held.
        further = ingest.ingest(engine, unlocked, device.cut(seq=2 * MAX_SEQ_AHEAD)[1], client="t")
        assert further.status == 201
        with engine.connect() as conn:
            assert len(store.checkpoint(conn, device.device_id).missing) == 2 * MAX_SEQ_AHEAD - 2
    finally:
        engine.dispose()
