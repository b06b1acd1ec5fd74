"""Each registered connector has its page in docs/connectors/, listing every credential field it
declares (and where to find it) and what its connection check verifies; the index links it."""

from __future__ import annotations

from pathlib import Path

import pytest

from palabre.connectors.registry import registered

DOCS = Path(__file__).resolve().parents[2] / "docs" / "connectors"


@pytest.mark.parametrize("platform", sorted(registered()))
def test_each_connector_documents_every_credential_field(platform):
    page = DOCS / f"{platform}.md"
    assert page.exists(), f"docs/connectors/{platform}.md is missing"
    text = page.read_text(encoding="utf-8")
    for field in registered()[platform].credential_fields or ():
        assert f"`{field.name}`" in text, f"docs/connectors/{platform}.md does not list `{field.name}`"
    assert "## Credentials" in text and "## What the connection check verifies" in text
    assert f"]({platform}.md)" in (DOCS / "README.md").read_text(encoding="utf-8")


def test_the_index_documents_skipping_the_check():
    text = (DOCS / "README.md").read_text(encoding="utf-8")
    assert "?check=false" in text and "`connection`" in text
