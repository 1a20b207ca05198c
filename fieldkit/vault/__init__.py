"""The vault: the laptop's encrypted, crash-safe store.

One SQLite file holds every record as versioned AES-256-GCM ciphertext, officer key slots, the
hash-chained audit log and the outbox. Nothing here imports Textual; the UI and the CLI reach
the vault through :mod:`fieldkit.vault.service`.
"""
