"""The HQ service: receives sealed batches, publishes reference data, reconciles visits."""
