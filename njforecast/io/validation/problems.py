"""Findings in a planner's file and how they are printed.

Public names:
    Problem                      one finding: file, row, column, message, fix, severity
    ValidationError              DataError carrying the list of problems
    sort_problems(problems)      file-level problems first, then by row
    format_problems(problems, limit)   printable lines ``file:row:column: message — fix``
    MAX_PRINTED                  problems printed by the CLI before "… and N more"
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store import DataError

#: Problems printed by the CLI before "… and N more".
MAX_PRINTED = 50


@dataclass(frozen=True)
class Problem:
    """One finding in a user file.

    Attributes:
        file: the file as given.
        row: spreadsheet row (1-based, the header row counts), or None for the whole file.
        column: column name as the file spells it (or the missing column), or None.
        message: what is wrong.
        fix: how to fix it.
        severity: "error" (the file is rejected) or "warning" (accepted; worth a look).
        unused_rows: rows of the file a run will not read because of this finding (an unknown
            indicator, an area outside the region); 0 for every other finding.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    fix: str = ""
    severity: str = "error"
    unused_rows: int = 0

    def __str__(self) -> str:
        loc = self.file
        if self.row is not None:
            loc += f":{self.row}"
        if self.column is not None:
            loc += f":{self.column}" if self.row is not None else f"::{self.column}"
        text = self.message if self.severity == "error" else f"warning: {self.message}"
        return f"{loc}: {text}" + (f" — {self.fix}" if self.fix else "")


def _errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def rows_text(rows: list[int], limit: int = 5) -> str:
    """"row 4" or "rows 2, 5, 7 (3 rows)": the first ``limit`` rows and the count."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    shown = ", ".join(map(str, rows[:limit])) + (" …" if len(rows) > limit else "")
    return f"rows {shown} ({len(rows)} rows)"


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """File-level problems first, then by row; order within a row is kept."""
    return sorted(problems, key=lambda p: -1 if p.row is None else p.row)


def format_problems(problems: list[Problem], limit: int = MAX_PRINTED) -> list[str]:
    """Printable lines, at most ``limit`` problems plus a count of the rest."""
    problems = sort_problems(problems)
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        n_err = len(_errors(problems))
        lines.append(f"… and {len(problems) - limit} more problems not shown "
                     f"({n_err} errors, {len(problems) - n_err} warnings in all)")
    return lines


class ValidationError(DataError):
    """A user file has errors; ``problems`` lists every one (warnings included)."""

    def __init__(self, problems: list[Problem]):
        self.problems = sort_problems(problems)
        super().__init__("\n".join(format_problems(self.problems)))
