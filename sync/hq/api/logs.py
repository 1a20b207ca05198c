"""HQ's log: rejections, enrollments and store failures, under the ``fieldkit.hq`` logger."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("fieldkit.hq")


def configure_logging(level: int = logging.INFO) -> None:
    """Send ``fieldkit.hq`` messages (rejections, accepted batches) to standard error."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(level)
        log.propagate = False
