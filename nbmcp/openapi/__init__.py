"""Placeholder package: filled by a later release."""
