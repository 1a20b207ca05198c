"""A sync that a test kills with SIGKILL at a chosen point (run as a program).

Run as ``tests/support/killable_sync.py STOP_AT HQ_URL PASSPHRASE`` (see
:mod:`tests.support.programs`) with ``FIELDKIT_HOME`` naming an enrolled vault (officer
``sup1``). It syncs, and stops at ``STOP_AT``, printing it (flushed) and then sleeping, so the
test can kill it there:

* ``acked``: after the first receipt is stored;
* ``sent``: after HQ answered a batch but before the device stored the receipt.

It prints ``finished`` if the sync ends first.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import requests

from fieldkit.settings import load_settings
from fieldkit.vault.vault import Vault
from sync.device.client import SyncClient


def main(argv: list[str]) -> int:
    stop_at, hq_url, passphrase = argv[1:4]
    session = Vault.open(load_settings().home).unlock("sup1", passphrase, allow_test_kdf=True)

    class StopAfterAnswer(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            response = super().request(method, url, *args, **kwargs)
            if stop_at == "sent" and url.endswith("/v1/batches"):
                print("sent", flush=True)
                time.sleep(60)
            return response

    def progress(done: int, total: int) -> None:
        if stop_at == "acked" and done >= 1:
            print("acked", flush=True)
            time.sleep(60)

    SyncClient(hq_url, session, StopAfterAnswer()).sync(progress)
    print("finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
