"""The building blocks of the figures: the period and filters, business time counted in SQL (the
organisation's calendar as a bucketed ordinal), nearest-rank percentiles and small expressions."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, RowNumber

from palabre.conversations.models import ItemKind
from palabre.inbox.hours import BusinessHours

# Business time is counted up to this long after the period's end (a first answer given later
# counts as given then): it bounds the calendar the query carries.
BUSINESS_HORIZON = timedelta(days=31)
# (numerator, denominator) of the nearest-rank percentiles: integers, so that ceil(p x n) is exact.
MEDIAN, P90 = (1, 2), (9, 10)
TOP = 10
CUSTOMER_KINDS = (
    ItemKind.COMMENT,
    ItemKind.REPLY,
    ItemKind.MENTION,
    ItemKind.DIRECT_MESSAGE,
    ItemKind.REVIEW,
)
SHARE_KEYS = ("shares", "reposts", "reblogs")
LIKE_KEYS = ("likes", "favourites")
# At least two words of letters or digits: one word or emoji alone is not a substantive comment.
SUBSTANTIVE = r"\w+\W+\w"


@dataclass(frozen=True)
class Period:
    """[start, end): whole local days of the organisation, from `first` to `last` included."""

    first: date
    last: date
    time_zone: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=ZoneInfo(self.time_zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.time_zone))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.time_zone)

    def local_days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


@dataclass(frozen=True)
class Filters:
    channel_id: int | None = None
    member_id: int | None = None
    # The campaign's posts and the conversations under them (metrics/campaigns.py)
    campaign_id: int | None = None


# Inside `read_figures`: each organisation's brand (author, channel) pairs, read once per report.
_brand_pairs: ContextVar[dict[int, list[tuple[int, int]]] | None] = ContextVar("brand_pairs", default=None)


@contextmanager
def read_figures() -> Iterator[None]:
    """The figures' queries in one transaction; on PostgreSQL without JIT compilation.

    PostgreSQL compiles a query to machine code (JIT) once its estimated cost passes
    `jit_above_cost`: the dashboard's aggregates over a busy organisation's period pass it, and
    compiling their many expressions took longer than running them (2.9 s of the 4.9 s of CPU of a
    cold dashboard on 1M items). `SET LOCAL` ends with the transaction: other queries keep the
    server's setting. The brand's handles (`brand_authors`) are read once for all the blocks."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        token = _brand_pairs.set({})
        try:
            yield
        finally:
            _brand_pairs.reset(token)


# --- SQL building blocks --------------------------------------------------------------------------


class EpochSeconds(Func):
    """Seconds since 1970-01-01 UTC of a datetime column, as a float, on SQLite and PostgreSQL.

    SQLite's julianday is a float of days: rounded to the millisecond, so that 10:00 minus 08:00
    is exactly 7,200 s and a first answer right on the target is not counted as late."""

    output_field = FloatField()

    def as_sqlite(self, compiler, conn, **extra):
        return self.as_sql(
            compiler, conn, template="ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        )

    def as_postgresql(self, compiler, conn, **extra):
        # date_part gives the double precision value itself; EXTRACT gives a numeric (PostgreSQL
        # 14 and later) that the cast then converts: the same value (both round the exact number of
        # seconds to the nearest double; checked on 3,000,000 instants), at twice the CPU.
        return self.as_sql(compiler, conn, template="date_part('epoch', %(expressions)s)")


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


class Calendar:
    """The opening intervals of a period (plus the horizon), as epoch seconds, and the SQL
    expressions built on them."""

    def __init__(self, hours: BusinessHours, start: datetime, end: datetime):
        self.hours = hours
        # Moments in [start, end) are placed as in the whole calendar (intervals before or after
        # the span change no difference between two of them): the inbox's stored durations hold.
        self.span = (start, end)
        intervals: list[tuple[float, float]] = []
        day = start.astimezone(hours.zone).date() - timedelta(days=1)
        while datetime.combine(day, time(0), tzinfo=hours.zone) < end:
            intervals.extend((_epoch(o), _epoch(c)) for o, c in hours.intervals(day))
            day += timedelta(days=1)
        self.intervals = intervals

    def ordinal(self, moment) -> Any:
        """Business seconds from the first opening to `moment` (an expression giving epoch seconds)."""
        if not self.intervals:
            return Value(0.0)
        if connection.vendor == "postgresql":
            return _BucketOrdinal(moment, intervals=self.intervals)
        whens, done = [], 0.0
        for opens, closes in self.intervals:
            whens.append(When(_lt(moment, opens), then=Value(done)))
            whens.append(When(_lt(moment, closes), then=moment - Value(opens) + Value(done)))
            done += closes - opens
        return Case(*whens, default=Value(done), output_field=FloatField())

    def ordinal_of(self, epoch: float) -> float:
        """`ordinal` of a moment known here (epoch seconds), the same float as the SQL's."""
        bounds = [b for pair in self.intervals for b in pair]
        k = bisect_right(bounds, epoch)  # width_bucket
        if k == 0:
            return 0.0
        done = sum(closes - opens for opens, closes in self.intervals[: (k - 1) // 2])
        opens, closes = self.intervals[(k - 1) // 2]
        # Inside interval j (k odd): t + (done before j - opening j); after it: done after j.
        return epoch * 1.0 + (done - opens) if k % 2 else epoch * 0.0 + (done + closes - opens)

    def closed(self, moment) -> Any:
        """1 when `moment` falls outside every opening interval, else 0."""
        if not self.intervals:
            return Value(1)
        if connection.vendor == "postgresql":
            return _BucketClosed(moment, intervals=self.intervals)
        whens = []
        for opens, closes in self.intervals:
            whens.append(When(_lt(moment, opens), then=Value(1)))
            whens.append(When(_lt(moment, closes), then=Value(0)))
        return Case(*whens, default=Value(1), output_field=IntegerField())

    def business_seconds(self, start, end) -> Any:
        return self.ordinal(end) - self.ordinal(start)


class _Bucketed(Func):
    """PostgreSQL: the moment is placed among the openings and closings with one `width_bucket`
    (a binary search) instead of a `CASE` that compares it with each of them: k, the number of
    boundaries at or before it, is odd inside an opening interval and even outside."""

    def __init__(self, moment, *, intervals: list[tuple[float, float]]):
        super().__init__(moment)
        self.intervals = intervals

    @staticmethod
    def _array(numbers: list[float]) -> str:
        # One array literal, read by float8's input function, rather than ARRAY[...] of numeric
        # constants that the parser makes a node of and the planner converts one by one: the same
        # doubles (repr gives the shortest text that reads back as the same float), and planning
        # care's statement (a calendar of hundreds of boundaries, written several times) takes
        # 1.6 instead of 10.8 ms (1M items, 28 days).
        return "'{" + ",".join(repr(float(n)) for n in numbers) + "}'::float8[]"

    def bucket(self, moment_sql: str) -> str:
        return f"width_bucket({moment_sql}, {self._array([b for pair in self.intervals for b in pair])})"


class _BucketOrdinal(_Bucketed):
    output_field = FloatField()

    def as_postgresql(self, compiler, conn, **extra):
        moment, params = compiler.compile(self.source_expressions[0])
        # For k = 2j - 1 (inside interval j): t + (done before j - opening j); for k = 2j: done after j.
        slope, offset, done = [], [], 0.0
        for opens, closes in self.intervals:
            slope += [1.0, 0.0]
            offset += [done - opens, done + closes - opens]
            done += closes - opens
        k = self.bucket(moment)
        sql = (
            f"(CASE WHEN {k} = 0 THEN 0.0 ELSE {moment} * ({self._array(slope)})[{k}] "
            f"+ ({self._array(offset)})[{k}] END)"
        )
        return sql, (*params, *params, *params, *params)  # the moment: in k three times, then alone


class _BucketClosed(_Bucketed):
    output_field = IntegerField()

    def as_postgresql(self, compiler, conn, **extra):
        moment, params = compiler.compile(self.source_expressions[0])
        return f"(1 - mod({self.bucket(moment)}, 2))", tuple(params)


class _LessThan(Func):
    template = "(%(expressions)s)"
    arg_joiner = " < "
    output_field = BooleanField()
    conditional = True


def _lt(expression, number: float):
    return _LessThan(expression, Value(number, output_field=FloatField()))


def percentiles(rows: QuerySet, value, group: str | None = None) -> dict[Any, dict[str, float | int]]:
    """{group value: {"n", "median", "p90"}} of `value` over `rows`, nearest rank, in one query."""
    partition = [F(group)] if group else []
    ranked = (
        rows.annotate(pv=value)
        .filter(pv__isnull=False)
        .annotate(
            prank=Window(
                RowNumber(), partition_by=partition or None, order_by=[F("pv").asc(), F("pk").asc()]
            ),
            pn=Window(Count("pk"), partition_by=partition or None),
        )
    )
    ranks = Q()
    for numerator, denominator in (MEDIAN, P90):
        # ceil(n x a / b) in integer arithmetic
        ranks |= Q(prank=(F("pn") * numerator + (denominator - 1)) / denominator)
    found: dict[Any, dict[str, float | int]] = {}
    fields = ["pv", "prank", "pn"] + ([group] if group else [])
    for row in ranked.filter(ranks).values(*fields):
        key = row[group] if group else None
        n = row["pn"]
        entry = found.setdefault(key, {"n": n})
        if row["prank"] == -(-n * MEDIAN[0] // MEDIAN[1]):
            entry["median"] = row["pv"]
        if row["prank"] == -(-n * P90[0] // P90[1]):
            entry["p90"] = row["pv"]
    return found


@dataclass
class GroupedFigures:
    """What `grouped_figures` gives: per value name, group and group value, the percentiles
    ({"n", "median", "p90"}); per group, its rows in order with their label and counts; the totals."""

    percentiles: dict[str, dict[str | None, dict[Any, dict[str, float | int]]]]
    counts: dict[str, list[dict[str, Any]]]
    totals: dict[str, int]


def grouped_figures(
    rows: QuerySet,
    values: dict[str, tuple[Q, Any]],
    groups: list[str | None],
    *,
    counts: dict[str, Q],
    totals: dict[str, Q],
    labels: dict[str, str],
) -> GroupedFigures:
    """The medians and p90 of several values (each over the rows its condition keeps), the counts
    (rows meeting each condition) of each group, and the totals, over several groupings at once.

    PostgreSQL computes all of them in one query, each row's values computed once (the
    business-time expression is the costly part): counts, sums and each value's values gathered
    per combination of the keys; the combinations are then added up per group here,
    and each group's percentiles picked from its combinations' values, at the nearest rank
    ceil(n x a / b) (see `grouping_sets`). SQLite runs `percentiles` per value and group, one
    count query per group and one for the totals."""
    columns = [group for group in groups if group]
    if connection.vendor != "postgresql":
        found = {
            name: {group: percentiles(rows.filter(condition), value, group) for group in groups}
            for name, (condition, value) in values.items()
        }
        counted: dict[str, list[dict[str, Any]]] = {}
        for group in columns:
            fields = [group] + ([labels[group]] if group in labels else [])
            counted[group] = [
                {"key": row[group], "label": row[fields[-1]], **{name: row[name] for name in counts}}
                for row in rows.values(*fields)
                .annotate(**{name: Count("pk", filter=condition) for name, condition in counts.items()})
                .order_by(*fields)
            ]
        overall = rows.aggregate(**{name: Count("pk", filter=c) for name, c in {**counts, **totals}.items()})
        return GroupedFigures(found, counted, overall)
    aliases = {name: f"pv{index}" for index, name in enumerate(values)}
    flags = {name: f"pc{index}" for index, name in enumerate({**counts, **totals})}
    label_columns = [labels[group] for group in columns if group in labels]
    base = (
        rows.order_by()
        .annotate(
            **{
                aliases[name]: Case(When(condition, then=value), default=None, output_field=FloatField())
                for name, (condition, value) in values.items()
            },
            **{
                flags[name]: Case(
                    When(condition, then=Value(1)), default=Value(0), output_field=IntegerField()
                )
                if condition  # an empty condition counts every row
                else Value(1, output_field=IntegerField())
                for name, condition in {**counts, **totals}.items()
            },
        )
        .values(*columns, *label_columns, *aliases.values(), *flags.values())
    )
    base_sql, params = base.query.sql_with_params()
    return grouping_sets(base_sql, params, list(values), list(counts), list(totals), groups, labels)


def grouping_sets(
    base_sql: str,
    params: Any,
    values: list[str],
    counts: list[str],
    totals: list[str],
    groups: list[str | None],
    labels: dict[str, str],
    label_tables: dict[str, tuple[str, str]] | None = None,
    counted_as: dict[str, str] | None = None,
) -> GroupedFigures:
    """PostgreSQL: `grouped_figures` over a base query written by the caller (one statement, its
    groupings added up here: the name is that of the `GROUPING SETS` it once ran), whose rows hold the
    group and label columns, the value of each of `values` in `pv0`, `pv1`... (NULL where the row
    does not count) and, for each of `counts` then `totals`, 1 or 0 in `pc0`, `pc1`...

    `counted_as` ({count name: aggregate}) counts some of them with an aggregate of their own
    instead (`COUNT(*)` for every row, `COUNT("pv0")` for the rows holding a value): the base
    rows then carry no flag for them, and the other flags are numbered without them.

    With `label_tables` ({group: (table, column)}), the base rows hold no label: the groups are
    formed on their keys alone and each group's label is read from its table's row afterwards (a
    handful of result rows joined, instead of every base row carrying and sorting its labels)."""
    columns = [group for group in groups if group]
    aliases = {name: f"pv{index}" for index, name in enumerate(values)}
    counted_as = counted_as or {}
    flags = {
        name: f"pc{index}" for index, name in enumerate(n for n in [*counts, *totals] if n not in counted_as)
    }
    label_columns = [labels[group] for group in columns if group in labels]
    quote = connection.ops.quote_name
    joined = label_tables or {}
    inline = [] if joined else label_columns  # with `label_tables`, every label is joined afterwards
    keys = [quote(column) for column in columns + inline]
    # The rows are gathered by every key at once (a few hundred combinations): their counts and
    # sums, and each value's values together. Each row goes into one combination, none is
    # sorted. The groupings then add up those combinations here, and each group's percentiles are
    # picked from its combinations' values by numpy's selection (`_ranked`): an ordered-set
    # aggregate per group sorted each value once for each grouping (four for care), 200 of the
    # 430 ms of care's statement on 1M items at 90 days. The values travel as each double's 8
    # bytes (`float8send`, exact), concatenated per combination (`string_agg`): no array is built
    # (a float8[] sent by `array_send` carries 4 bytes more a value; 10 ms more at 90 days).
    gathered = [quote(alias) for alias in aliases.values()]
    summed = [counted_as.get(name) or f"SUM({quote(flags[name])})" for name in [*counts, *totals]]
    combined = ", ".join(
        [
            *keys,
            *(f"COUNT({alias}) AS n{index}" for index, alias in enumerate(gathered)),
            *(
                f"string_agg(float8send({alias}), ''::bytea) FILTER (WHERE {alias} IS NOT NULL) AS a{index}"
                for index, alias in enumerate(gathered)
            ),
            *(f"{sql} AS s{index}" for index, sql in enumerate(summed)),
        ]
    )
    combinations = f"SELECT {combined} FROM ({base_sql}) AS base" + (
        f" GROUP BY {', '.join(keys)}" if keys else ""
    )
    # The labels joined to the combinations (a few hundred rows), after their keys.
    tables = {group: f"l{index}" for index, group in enumerate(columns) if group in labels and joined}
    read = [
        *(f"c.{key}" for key in keys),
        *(f"{alias}.{quote(joined[group][1])}" for group, alias in tables.items()),
        *(f"c.n{index}" for index in range(len(gathered))),
        *(f"c.a{index}" for index in range(len(gathered))),
        *(f"c.s{index}" for index in range(len(summed))),
    ]
    joins = " ".join(
        f"LEFT JOIN {quote(joined[group][0])} {alias} ON {alias}.id = c.{quote(group)}"
        for group, alias in tables.items()
    )
    sql = f"SELECT {', '.join(read)} FROM ({combinations}) AS c {joins}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = len(columns) + len(label_columns)
    # Per group: (key, label, value counts, value arrays, sums), added up from its combinations.
    added: dict[str | None, dict[Any, list[Any]]] = {group: {} for group in groups}
    for row in rows:
        numbers = row[width + 2 * len(gathered) :]
        for group in groups:
            key = row[columns.index(group)] if group else None
            label = row[len(columns) + label_columns.index(labels[group])] if group in labels else key
            entry = added[group].setdefault(
                key, [label, [0] * len(gathered), [[] for _ in gathered], [0] * len(summed)]
            )
            for index in range(len(gathered)):
                entry[1][index] += row[width + index] or 0
                if row[width + len(gathered) + index] is not None:
                    entry[2][index].append(row[width + len(gathered) + index])
            for index, number in enumerate(numbers):
                entry[3][index] += int(number or 0)
    if None in groups and not added[None]:  # no row: the whole's counts are zeros
        added[None][None] = [None, [0] * len(gathered), [[] for _ in gathered], [0] * len(summed)]
    found: dict[str, dict[str | None, dict[Any, dict[str, float | int]]]] = {
        name: {group: {} for group in groups} for name in values
    }
    counted: dict[str, list[dict[str, Any]]] = {group: [] for group in columns}
    overall: dict[str, int] = {}
    for group in groups:
        for key, (label, ns, arrays, sums) in added[group].items():
            for index, name in enumerate(values):
                if ns[index]:
                    median, p90 = _ranked(arrays[index], ns[index])
                    found[name][group][key] = {"n": ns[index], "median": median, "p90": p90}
            named = dict(zip([*counts, *totals], sums, strict=True))
            if group is None:
                overall = named
            else:
                counted[group].append({"key": key, "label": label, **{name: named[name] for name in counts}})
    for group in columns:  # by key, nulls last, as PostgreSQL's ORDER BY sorts them
        counted[group].sort(key=_key_order)
    return GroupedFigures(found, counted, overall)


def _ranked(sent: list[bytes], n: int) -> tuple[float, float]:
    """The median and p90 (nearest rank: the values at ranks ceil(n x a / b)) of the `n` values
    sent as doubles (`float8send`, 8 bytes big-endian each): numpy's selection (introselect, no
    full sort) over them all."""
    import numpy as np

    numbers = np.frombuffer(b"".join(sent), dtype=">f8").astype(np.float64)
    ranks = [-(-n * numerator // denominator) - 1 for numerator, denominator in (MEDIAN, P90)]
    picked = np.partition(numbers, ranks)
    return float(picked[ranks[0]]), float(picked[ranks[1]])


def _key_order(entry: dict[str, Any]) -> tuple[bool, Any, str]:
    key = entry["key"]
    return (key is None, key if key is not None else 0, entry["label"] or "")


def _ratio(part: float | int | None, whole: float | int | None) -> float | None:
    return None if not whole else (part or 0) / whole


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def _json_number(key: str) -> Any:
    return Coalesce(Cast(KeyTextTransform(key, "metrics"), FloatField()), Value(0.0))


def _brand_item() -> Q:
    return Q(author__isnull=False, author__handle=F("channel__handle"))


def brand_authors(organisation_id: int) -> Q:
    """The same items as `_brand_item()` (the author's handle is the channel's handle), named by
    their (author, channel) pairs, read first in one small query (an index finds the handles
    named as the organisation's channels): the figures then compare two columns of the item
    instead of joining every row to its channel and author, and the index on (author,
    created_at) finds the brand's items of a period."""
    found = Q(pk__in=[])
    for author_id, channel_id in brand_pairs(organisation_id):
        found |= Q(author_id=author_id, channel_id=channel_id)
    return found


def brand_pairs(organisation_id: int) -> list[tuple[int, int]]:
    """The (author, channel) pairs of `brand_authors`, in order."""
    from palabre.conversations.models import ContactHandle
    from palabre.orgs.models import Channel

    sql = (
        f"SELECT h.id, ch.id FROM {Channel._meta.db_table} ch JOIN {ContactHandle._meta.db_table} h "
        "ON h.organisation_id = ch.organisation_id AND h.handle = ch.handle WHERE ch.organisation_id = %s"
    )
    known = _brand_pairs.get()
    pairs = known.get(organisation_id) if known is not None else None
    if pairs is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [organisation_id])
            pairs = cursor.fetchall()
        if known is not None:
            known[organisation_id] = pairs
    return sorted(pairs)
