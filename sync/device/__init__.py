"""The laptop's side of sync.

The sync client, batches cut from the vault's outbox, receipts, checkpoints, enrollment and
applying HQ's reference data. May import the vault; never HQ.
"""
