"""Bulk inserts for the pipeline's hot paths: `insert(objs)` is `bulk_create(objs)` (same rows, ids
set on the objects, same errors), through PostgreSQL's COPY where it can.

Django's bulk_create prepares every value of every row through its fields (pre_save,
get_db_prep_save), then psycopg quotes each array of its `UNNEST` insert in Python, JSON values
one by one: for the pipeline's batches that was most of the CPU of storing an item's moderation
decision (0.068 ms a row, 0.018 by COPY, measured on 200 decisions). COPY takes rows as they are;
the ids come first, from the table's sequence, in one query.

Only models whose fields are all of the plain kinds below take that path (others, other databases,
values that are expressions, naive datetimes: `bulk_create`). The COPY counts as one query for
Django's query log (`assertNumQueries`, the benches' queries per item), as it is one.

`field__any=values` (the `AnyOf` lookup, registered on every field when this module is imported)
is `field__in=values` written `field = ANY(%s)` on PostgreSQL: one array parameter instead of
one placeholder a value, so the statement's text does not depend on the batch's size (psycopg
parses each new text again: a text over 4,096 bytes is never kept) and Django prepares no
placeholder a value. Whole numbers for a whole-number column, and texts for a text one, are sent as
one array literal that the server reads as the column's type: psycopg's quoting of a list, value by
value in Python, and Django's preparation of each value cost 0.2 ms of the client's CPU a query of
200 ids (0.46 to 0.26 ms, compiled and run, ids; 0.70 to 0.44, texts). On other databases it is
`__in` itself.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from operator import attrgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router
from django.db.models.lookups import In
from django.db.transaction import TransactionManagementError

__all__ = ["AnyOf", "Prepared", "array_text", "insert", "update"]

# Fields whose value goes to COPY as the object holds it (after pre_save for auto_now ones).
_PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateTimeField",
        "FloatField",
        "ForeignKey",
        "OneToOneField",
        "IntegerField",
        "JSONField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)

_sequences: dict[tuple[str, str], str] = {}


def insert(objs: Sequence[models.Model], *, model: type[models.Model] | None = None) -> list[models.Model]:
    """Insert these new objects of one model, as `model.objects.bulk_create(objs)` does: the ids are
    set on them (and `_state` marks them saved); a unique or foreign key that does not hold raises
    IntegrityError, a lock conflict OperationalError, and nothing of the batch is written."""
    objs = list(objs)
    if not objs:
        return objs
    model = model or type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    plan = _plan(model) if connection.vendor == "postgresql" else None
    rows = _rows(objs, plan, connection) if plan is not None else None
    if rows is None:
        return model._default_manager.using(alias).bulk_create(objs)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in plan.fields)
    with connection.cursor() as cursor:
        missing = [index for index, obj in enumerate(objs) if obj.pk is None]
        if missing:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [_sequence(cursor, model), len(missing)]
            )
            for index, (value,) in zip(missing, cursor.fetchall(), strict=True):
                objs[index].pk = rows[index][0] = value
        sql = f"COPY {table} ({columns}) FROM STDIN"
        started = time.monotonic()
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
    return objs


# Parameters of one UPDATE ... FROM (VALUES ...): under PostgreSQL's limit of 65,535 a statement.
UPDATE_PARAMETERS = 30_000


def update(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write these fields of these saved objects, rows that exist (locked by the caller), as they
    are held (no auto_now stamp). On PostgreSQL one `UPDATE ... FROM (VALUES ...)` of their values
    prepared as `insert` prepares them; elsewhere, or when a value needs Django's preparation,
    `bulk_create(update_conflicts=True)` on the primary key (an upsert of rows that exist is their
    update). Django compiled that upsert value by value and psycopg quoted each column as an array,
    in Python: 0.014 ms of the client's CPU an item of the pipeline's inbox stage."""
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    plan = _plan(model) if connection.vendor == "postgresql" else None
    rows = _rows(objs, plan, connection, stamp=False) if plan is not None else None
    if rows is None or any(obj.pk is None for obj in objs):
        model._default_manager.using(alias).bulk_create(
            objs, update_conflicts=True, unique_fields=["pk"], update_fields=list(fields)
        )
        return
    chosen = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    where = [plan.fields.index(field) for field in chosen]
    quote = connection.ops.quote_name
    columns = [quote(field.column) for field in chosen]
    # The first row states each column's type (its base type: a length is checked by the column).
    first = ", ".join(f"%s::{_base_type(field, connection)}" for field in chosen)
    other = ", ".join(["%s"] * len(chosen))
    per_statement = max(UPDATE_PARAMETERS // len(chosen), 1)
    table = quote(model._meta.db_table)
    assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([f"({first})", *[f"({other})"] * (len(chunk) - 1)])
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({', '.join(columns)}) "
                f"WHERE {table}.{columns[0]} = v.{columns[0]}",
                [row[index] for row in chunk for index in where],
            )


def update_values(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write these fields of the rows each given as `(primary key, *values)`, values as the model's
    fields hold them (a JSON field's list or dict), rows that exist (locked by the caller): `update`
    without loading whole objects, for a write of a few columns over many rows. PostgreSQL: one
    `UPDATE ... FROM unnest(...)` of an array a column; elsewhere `bulk_update`."""
    if not rows:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    names = list(fields)
    if connection.vendor != "postgresql":
        objs = [model(pk=row[0], **dict(zip(names, row[1:], strict=True))) for row in rows]
        model._default_manager.using(alias).bulk_update(objs, names)
        return
    chosen = [model._meta.pk, *(model._meta.get_field(name) for name in names)]
    # One array a column, bound by the server: the statement's parameters do not grow with its
    # rows (UPDATE ... FROM VALUES, as `update` writes, cost psycopg more CPU splitting and quoting
    # them than the rest of the write).
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(field.column) for field in chosen]
    arrays, assignments = [], []
    for index, field in enumerate(chosen):
        is_json = field.get_internal_type() == "JSONField"
        arrays.append([json.dumps(row[index], cls=field.encoder) if is_json else row[index] for row in rows])
        if index:
            cast = "::jsonb" if is_json else ""
            assignments.append(f"{columns[index]} = v.{columns[index]}{cast}")
    types = ", ".join(
        f"%b::{'text' if field.get_internal_type() == 'JSONField' else _base_type(field, connection)}[]"
        for field in chosen
    )
    with _server_binding_cursor(connection) as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)} FROM unnest({types}) AS v({', '.join(columns)}) "
            f"WHERE {table}.{columns[0]} = v.{columns[0]}",
            arrays,
        )


def _server_binding_cursor(connection):
    """A cursor whose parameters PostgreSQL binds (`%b`: sent in binary), wrapped as Django wraps
    its own (logged, execute wrappers): Django's binds on the client, quoting every text of an
    array as a literal, half the CPU of writing 190,000 rows of JSON."""
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _base_type(field: models.Field, connection) -> str:
    """The column's type without its length or precision ("varchar(200)": "varchar")."""
    db_type = field.target_field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
    return db_type.split("(", 1)[0].strip()


@dataclass(frozen=True)
class _Plan:
    """How a model's rows are written by COPY: its columns (the primary key first), one getter of
    their values, and which of them need a look (JSON to serialise, relations given as objects,
    datetimes to check)."""

    fields: list[models.Field]
    values: Callable[[models.Model], tuple]
    json: list[tuple[int, Callable[[Any], str]]]
    relations: list[int]
    datetimes: list[int]
    stamped: list[models.Field]  # auto_now and auto_now_add: pre_save stamps them


_plans: dict[type[models.Model], _Plan | None] = {}
_FAST = frozenset({str, int, float, bool, type(None), datetime})


def _plan(model: type[models.Model]) -> _Plan | None:
    """How the model's rows are written; None when a field is not of a plain kind (bulk_create)."""
    if model in _plans:
        return _plans[model]
    meta = model._meta
    fields = [meta.pk, *(field for field in meta.concrete_fields if field is not meta.pk)]
    plan: _Plan | None = None
    simple = meta.pk.get_internal_type() in {"AutoField", "BigAutoField", "SmallAutoField"}
    plain = all(field.get_internal_type() in _PLAIN for field in fields)
    if simple and plain and not any(field.generated or field.db_returning for field in fields[1:]):
        plan = _Plan(
            fields=fields,
            values=attrgetter(*(field.attname for field in fields)),
            json=[
                (index, partial(json.dumps, cls=field.encoder) if field.encoder else json.dumps)
                for index, field in enumerate(fields)
                if field.get_internal_type() == "JSONField"
            ],
            relations=[index for index, field in enumerate(fields) if field.is_relation],
            datetimes=[
                index for index, field in enumerate(fields) if field.get_internal_type() == "DateTimeField"
            ],
            stamped=[
                field
                for field in fields
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            ],
        )
    _plans[model] = plan
    return plan


def _rows(objs: list[models.Model], plan: _Plan, connection, *, stamp: bool = True) -> list[list[Any]] | None:
    """Each object's values as COPY takes them (the primary key first), or None when one needs
    Django's preparation (an expression). `stamp`: auto_now fields stamped, as an insert does."""
    fields = plan.fields
    stamped = plan.stamped if stamp else ()
    rows = []
    for obj in objs:
        for field in stamped:
            field.pre_save(obj, True)
        row = list(plan.values(obj))
        for index in plan.relations:
            if row[index] is None:
                row[index] = _related_pk(obj, fields[index])
        for index, dumps in plan.json:
            value = row[index]
            kind = type(value)
            if kind is dict or kind is list:
                # Many are empty (raw, metrics, rules fired, tags): their text without the encoder.
                row[index] = dumps(value) if value else "{}" if kind is dict else "[]"
            elif value is not None:
                if hasattr(value, "resolve_expression"):
                    return None
                row[index] = dumps(value)
        for index in plan.datetimes:
            value = row[index]
            if value is not None and (type(value) is not datetime or value.tzinfo is None):
                row[index] = _prepared(fields[index], value, connection)  # naive: made aware, as Django does
        if not _FAST.issuperset(map(type, row)):
            # An enum member, a Decimal, an expression...: Django's preparation, value by value.
            for index, value in enumerate(row):
                if type(value) not in _FAST:
                    row[index] = _prepared(fields[index], value, connection)
                    if row[index] is _UNFIT:
                        return None
        rows.append(row)
    return rows


_UNFIT = object()


def _prepared(field: models.Field, value: Any, connection) -> Any:
    if hasattr(value, "resolve_expression"):
        return _UNFIT
    value = field.get_db_prep_save(value, connection)
    return value if isinstance(value, (str, int, float, type(None), datetime)) else _UNFIT


def _related_pk(obj: models.Model, field: models.Field) -> Any:
    """As bulk_create does: a related object assigned before it was saved lends its id now, and
    one still unsaved refuses the insert."""
    related = field.get_cached_value(obj, default=None)
    if related is None:
        return None
    if related.pk is None:
        raise ValueError(
            f"bulk insert prohibited to prevent data loss due to unsaved related object '{field.name}'."
        )
    setattr(obj, field.attname, related.pk)
    return related.pk


def _sequence(cursor, model: type[models.Model]) -> str:
    key = (model._meta.db_table, model._meta.pk.column)
    if key not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", list(key))
        _sequences[key] = cursor.fetchone()[0]
    return _sequences[key]


class AnyOf(In):
    """`field__any=values`: the rows whose field is one of `values` (see the module's docstring)."""

    lookup_name = "any"
    _plain: type | None = None  # int or str: the values are given as the column holds them

    def get_prep_lookup(self):
        # Whole numbers for a whole-number column, texts for a text one: each field would hand each
        # back as it is (int(), str()), so they are kept as given, without one call per value.
        kind = _plain_kind(getattr(self.lhs, "output_field", None))
        if kind is not None and self.prepare_rhs and type(self.rhs) in (list, tuple, set, frozenset):
            values = list(self.rhs)
            if all(type(value) is kind or value is None for value in values):
                self._plain = kind
                return values
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value() or isinstance(self.rhs, models.expressions.ExpressionList):
            return self.as_sql(compiler, connection)  # a subquery or expressions: IN, as `__in`
        # As `__in`: NULL is never equal to anything; no value, no row (and no query).
        values = list(dict.fromkeys(value for value in self.rhs if value is not None))
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if self._plain is not None:
            # The array as one text, of no stated type: the server reads it as an array of the
            # column's type. psycopg would quote it value by value, in Python.
            return f"{lhs} = ANY(%s)", (*lhs_params, _array_text(values, self._plain))
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in values]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


def _plain_kind(field: models.Field | None) -> type | None:
    """int when the field (or the field a foreign key points to) prepares a whole number as it
    is, str when it does so for a text, None otherwise."""
    while isinstance(field, models.ForeignKey):
        field = field.target_field
    if field is None:
        return None
    kind = type(field)
    if kind.get_prep_value is models.IntegerField.get_prep_value and kind.get_db_prep_value in (
        models.IntegerField.get_db_prep_value,
        models.AutoField.get_db_prep_value,
    ):
        return int
    if (
        kind.get_prep_value
        in (
            models.CharField.get_prep_value,
            models.TextField.get_prep_value,
        )
        and kind.get_db_prep_value is models.Field.get_db_prep_value
    ):
        return str
    return None


def array_text(values: Sequence[int]) -> str:
    """These ids as one PostgreSQL array literal, for `column = ANY(%s)` in a statement of one's own."""
    return _array_text(list(values), int)


def _array_text(values: list, kind: type) -> str:
    """A PostgreSQL array literal of these whole numbers or texts (each text quoted)."""
    if kind is int:
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


class Prepared:
    """A read made for every batch, its SQL compiled once: `Prepared(build)`, where `build(*values)`
    returns a queryset; calling it with values returns that queryset's rows (a list), as
    `list(build(*values))` does.

    Building and compiling a queryset cost Django 0.2 to 1.2 ms of CPU a query, whatever the
    batch's size (0.06 to 0.1 ms an item of the pipeline's analysis, for a few dozen reads a batch).
    On PostgreSQL the queryset is built and compiled once per kind of values, with stand-ins for
    them; each call puts its values in the compiled statement's parameters and lets the queryset's
    own iterable read the rows (model instances, `select_related` objects, `values_list` tuples).

    The values a call may give: lists (or tuples, sets) of whole numbers or of texts, given to
    `field__any`, and single whole numbers, texts or aware datetimes given as they are
    (`field=value`, `field__gte=moment`). `build` must
    give the same statement for any such values: no branch on them, nothing else that changes
    (read a setting or the clock inside `build`, not around it). Any other call (other values, an
    empty list, another database) is `list(build(*values))` itself.
    """

    def __init__(self, build: Callable[..., models.QuerySet]) -> None:
        self.build = build
        self._compiled: dict[tuple, _Compiled | None] = {}

    def __call__(self, *values: Any) -> list:
        kinds = tuple(map(_kind_of, values))
        if None in kinds:
            return list(self.build(*values))
        compiled = self._compiled.get(kinds, _MISSING)
        if compiled is _MISSING:
            compiled = self._compiled[kinds] = _compile(self.build, kinds)
        if compiled is None or connections[compiled.alias].vendor != "postgresql":
            return list(self.build(*values))
        return compiled.rows(values)


_MISSING: Any = object()


def _kind_of(value: Any) -> str | None:
    """What a value is for `Prepared`: "ints" or "texts" (a non-empty collection of whole numbers or
    of texts), "int" or "text" (one), "moment" (a datetime with its time zone), None (anything
    else: the call is not prepared)."""
    kind = type(value)
    if kind is int:
        return "int"
    if kind is str:
        return "text"
    if kind is datetime and value.tzinfo is not None:
        return "moment"
    if kind in (list, tuple, set, frozenset) and value:
        if all(type(one) is int for one in value):
            return "ints"
        if all(type(one) is str for one in value):
            return "texts"
    return None


def _stand_in(kind: str, index: int) -> Any:
    """A value no call gives, for the value at `index` (a whole number within PostgreSQL's integer
    range, so that no lookup refuses it as out of range)."""
    number = -1_987_654_321 - index
    text = f"\x1epalabre-prepared-{index}\x1e"
    if kind == "moment":
        return datetime(1901, 2, 3, 4, 5, 6, 789_012 - index, tzinfo=UTC)
    return {"int": number, "text": text, "ints": [number], "texts": [text]}[kind]


def _as_parameter(kind: str, value: Any) -> Any:
    """How a value of this kind appears among a compiled statement's parameters."""
    if kind == "ints":
        return _array_text(list(value), int)
    if kind == "texts":
        return _array_text(list(value), str)
    return value


@dataclass(frozen=True)
class _Compiled:
    alias: str
    queryset: models.QuerySet
    compiler: Any  # the compiler that compiled it (its select, related objects and columns)
    sql: str
    params: tuple
    slots: tuple[tuple[int, int, str, type], ...]  # (parameter's index, value's index, kind, type)

    def rows(self, values: tuple) -> list:
        params = list(self.params)
        for index, which, kind, wrap in self.slots:
            value = _as_parameter(kind, values[which])
            params[index] = value if wrap in (int, str, datetime) else wrap(value)  # psycopg's Int4, Int8
        connection = connections[self.alias]
        if self.queryset.query.select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        queryset = self.queryset.all()
        compiler = copy.copy(self.compiler)
        compiler.connection = connection  # this thread's (the compiler kept the compiling thread's)
        sql = self.sql
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)


def _compile(build: Callable[..., models.QuerySet], kinds: tuple[str, ...]) -> _Compiled | None:
    """The statement `build` gives for stand-ins of these kinds, with where each value goes
    among its parameters; None when it cannot be prepared (another database, a value changed on
    its way, or not found)."""
    stand_ins = [_stand_in(kind, index) for index, kind in enumerate(kinds)]
    queryset = build(*stand_ins)
    alias = queryset.db
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    compiler = queryset.query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    if not sql:
        return None
    expected = [_as_parameter(kind, stand_in) for kind, stand_in in zip(kinds, stand_ins, strict=True)]
    slots = []
    for index, param in enumerate(params):
        for which, wanted in enumerate(expected):
            if type(param) in (int, str, datetime) or isinstance(param, int):
                if param == wanted and type(param) is not bool:
                    slots.append((index, which, kinds[which], type(param)))
                    break
            elif isinstance(param, (list, tuple)) and any(wanted == one for one in param):
                return None  # a value in a list of its own: not a parameter of its own
    found = {which for _index, which, _kind, _type in slots}
    visible = [
        str(stand_in[0] if isinstance(stand_in, list) else stand_in)
        for stand_in in stand_ins
        if not isinstance(stand_in, datetime)
    ]
    embedded = any(
        isinstance(param, str) and param not in expected and any(text in param for text in visible)
        for param in params
    )
    if len(found) != len(kinds) or embedded or any(text in sql for text in visible):
        return None
    return _Compiled(alias, queryset, compiler, sql, tuple(params), tuple(slots))


# Relations list only their own lookups, not those of Field: an id given as `item_id__any` too.
models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)
