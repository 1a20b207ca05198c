"""Widgets of the field app that carry a rule of their own."""
