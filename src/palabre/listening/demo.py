"""Listening demo data for the demo brand (Maison Lumière)."""

from __future__ import annotations


def load_demo_listening(organisation, people, channels, now) -> None:
    if organisation.slug != "demo":
        return
