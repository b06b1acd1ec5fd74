"""Values as the databases can store them: row ids, integers and moments.

SQLite's INTEGER and PostgreSQL's bigint stop at 2**63 - 1; a larger number sent in a query string,
a path or a body names no row, and the database drivers refuse to bind it (SQLite raises
OverflowError), which used to surface as a server error. Likewise a moment near the ends of Python's
calendar (year 1 or 9999) overflows once converted to UTC for the query. So:

- every id the API reads is a `RowId` (1 to 2**63 - 1): a larger one gets 422 naming the field, and
  the bounds are in the OpenAPI schema;
- every other integer the API may store or compare is a `StoredInt` (0 to 2**63 - 1);
- every moment the API reads is a `Moment`, between the years 1970 and 2999;
- page URLs take ids through the `id` path converter, which does not match beyond the range (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.urls import register_converter
from ninja import Field
from pydantic import AfterValidator

MAX_ROW_ID = 2**63 - 1
FIRST_YEAR, LAST_YEAR = 1970, 2999

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
StoredInt = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]


def _within_the_years(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"Give a moment between the years {FIRST_YEAR} and {LAST_YEAR}.")
    return value


Moment = Annotated[datetime, AfterValidator(_within_the_years)]


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
