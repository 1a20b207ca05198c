"""The vault: the laptop's encrypted, crash-safe store.

One SQLite file holds every record as versioned AES-256-GCM ciphertext, officer key slots, the
hash-chained audit log and the outbox. Nothing here imports Textual; the field app and the CLI
reach the vault only through the application layer, :mod:`fieldkit.service`.
"""
