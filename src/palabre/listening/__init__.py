"""Listening (M5) and crisis detection (M6)."""
