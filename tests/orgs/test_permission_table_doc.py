"""docs/security.md's table of roles and permissions says what the matrix does, cell by cell."""

from __future__ import annotations

import re
from pathlib import Path

from palabre.orgs.permissions import MATRIX, Perm, Role

SECURITY = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_documented_permission_table_is_the_matrix():
    text = SECURITY.read_text(encoding="utf-8")
    section = text.split("## Roles and permissions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    header = next(line for line in section.splitlines() if line.startswith("| permission |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")][1:]
    assert roles == [role.value for role in Role]
    documented = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        code = re.match(r"`([^`]+)`", cells[0]).group(1)
        documented[code] = {role for role, cell in zip(roles, cells[1:], strict=True) if cell == "yes"}
    assert documented == {perm.value: {role.value for role in Role if perm in MATRIX[role]} for perm in Perm}
