"""The pure rules of a passport visit: no I/O, nothing of ours imported.

Every rule returns structured findings (see :mod:`fieldkit.domain.findings`) so the field app,
the CLI and HQ show an officer the same words.
"""
