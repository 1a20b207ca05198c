"""fieldkit: offline-first field kit for Indonesia's mobile passport units."""

__version__ = "0.1.0"
