"""A batch whose seq is far beyond the device's highest is refused and flagged, on both stores."""

from __future__ import annotations

import pytest

from sync.hq import ingest, keys, store
from sync.hq.ingest import MAX_SEQ_AHEAD
from tests.integration.test_hq_harness import PASSPHRASE, HQHome, init_hq
from tests.integration.test_hq_import import enrolled_device


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hq(request, tmp_path) -> HQHome:
    db_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return init_hq(tmp_path / "hq", db_url)


def test_a_seq_far_ahead_is_refused_flagged_and_logged_and_the_limit_itself_is_accepted(hq):
    device = enrolled_device(hq)
    engine = hq.engine()
    unlocked = keys.unlock(hq.home, PASSPHRASE)
    try:
        too_far = device.cut(seq=MAX_SEQ_AHEAD + 1)[1]
        with pytest.raises(ingest.HttpProblem) as refused:
            ingest.ingest(engine, unlocked, too_far, client="test")
        assert (refused.value.slug, refused.value.status) == ("sequence-too-far", 422)
        assert hq.count(store.batches) == 0 and hq.count(store.records) == 0
        [flag] = hq.rows(store.flags)
        assert flag["kind"] == "sequence-too-far" and flag["device_id"] == device.device_id
        [logged] = hq.rows(store.rejections)
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
