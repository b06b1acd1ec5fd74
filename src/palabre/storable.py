"""Row ids and counts as the databases hold them: 64-bit signed integers.

SQLite's INTEGER and PostgreSQL's bigint stop at 2**63 - 1; a larger number sent in a query string,
a path or a body names no row, and the database drivers refuse to bind it (SQLite raises
OverflowError), which used to surface as a server error. So:

- every id the API reads is a `RowId` (1 to 2**63 - 1): a larger one gets 422 naming the field, and
  the bounds are in the OpenAPI schema;
- every other integer the API may store or compare is a `StoredInt` (0 to 2**63 - 1);
- page URLs take ids through the `id` path converter, which does not match beyond the range (404).
"""

from __future__ import annotations

from typing import Annotated

from django.urls import register_converter
from ninja import Field

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
StoredInt = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]


class RowIdConverter:
    """`<id:pk>` in a URL pattern: digits that fit a 64-bit row id; anything longer is no match."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ROW_ID:
            raise ValueError(f"{value} is beyond the 64-bit range of row ids")
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)


register_converter(RowIdConverter, "id")
