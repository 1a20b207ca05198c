"""The field app's screens, one module per step of the officer's day."""
