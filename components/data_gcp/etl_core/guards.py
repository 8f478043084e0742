"""The rules every connector shares about bad, partial and empty answers.

- One bad record never fails a run (`BadRecords`): it is skipped with a warning naming it and the
  run goes on. Only when a large share of the records is unreadable is it the vendor's shape that
  changed, not one record: then the run fails naming the first ones, and nothing is written.
- A partial, empty or "not yet" answer never deletes, shortens or mass-acts:
  * `RunContext.keep(table, days, reason, **scope)` marks days the source could not give in full
    (a report not available yet, a capped report): the rows already loaded for them stay, whatever
    the run extracted for them, and the run warns (`runner` drops their rows and never clears them);
  * `guard_mass_action` refuses a plan that would act on most of what exists (archive every
    collection because a listing came back empty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from data_gcp.config import DataGcpError
from data_gcp.log import get_logger

log = get_logger(__name__)


class BadRecordsError(DataGcpError):
    """Too many records of one answer were unreadable: the vendor's shape changed."""


class MassActionError(DataGcpError):
    """A plan would act on most of what exists, from an answer that is likely partial or empty."""


@dataclass
class BadRecords:
    """Records of one answer skipped one at a time, with a bound on how many may be skipped.

    `skip(record, reason)` logs a warning naming the record; `check(total)` fails (with `error`, a
    `BadRecordsError` by default) when more than `max_share` of the `total` records were skipped, the
    sign of a renamed field rather than of one bad record. A single record among fewer than
    `1 / max_share` is a bad record, never a change of shape.
    """

    system: str
    what: str
    max_share: float = 0.1
    error: Callable[[str], Exception] | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, record: object, reason: str) -> None:
        self.skipped.append((str(record), reason))
        log.warning("%s: %s %s skipped: %s", self.system, self.what, record, reason)

    def skip_many(self, records: list[object], count: int, reason: str) -> None:
        """`count` records skipped for one reason (a vectorised filter), the first `records` named."""
        named = ", ".join(str(r) for r in records[:5])
        log.warning("%s: %d %s skipped (%s%s): %s", self.system, count, self.what, named,
                    ", ..." if count > len(records[:5]) else "", reason)  # fmt: skip
        self.skipped.extend((str(r), reason) for r in records[:count])
        self.skipped.extend(("", reason) for _ in range(count - min(count, len(records))))

    def check(self, total: int) -> None:
        n = len(self.skipped)
        if not n:
            return
        if n > 1 and n > self.max_share * max(total, 1):
            first = "; ".join(f"{r}: {why}" for r, why in self.skipped[:3])
            message = (
                f"{n} of {total} {self.what} are unreadable ({first}): the answer's shape changed, "
                "nothing was written"
            )
            raise (self.error or BadRecordsError)(message)
        log.warning(
            "%s: %d of %d %s skipped (named above); the others are loaded", self.system, n, total, self.what
        )


def guard_mass_action(
    system: str,
    action: str,
    planned: int,
    population: int,
    *,
    max_share: float = 0.5,
    min_count: int = 5,
    what: str = "",
) -> None:
    """Refuse to `action` `planned` of `population` things when that is most of them.

    Why: a listing that came back empty or cut makes everything look unused; a plan built on it
    would archive (or flag, or delete) everything. Below `min_count` the plan is small enough to act.
    """
    if planned < min_count:
        return
    if population <= 0 or planned > max_share * population:
        raise MassActionError(
            f"{system}: refusing to {action} {planned} of {population}{' ' + what if what else ''} "
            f"(more than {max_share:.0%}): the answer it was planned from is probably partial or "
            "empty; nothing was done (check the source, then run again)"
        )
