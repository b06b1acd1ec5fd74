"""The work of `palabre query` (listening's management command `query`): try a listening query on
texts, without a database (see docs/commands.md)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from palabre.nlp.query import QuerySyntaxError, anchors, parse_query


def report_error(error: QuerySyntaxError, out: TextIO) -> None:
    """The message, then the query with a caret under the position of the problem."""
    out.write(f"palabre: invalid query: {error.message} [{error.code}]\n")
    for line in error.caret().splitlines():
        out.write(f"  {line}\n")


def cmd_query(args: argparse.Namespace) -> None:
    try:
        query = parse_query(args.query)
    except QuerySyntaxError as error:
        report_error(error, sys.stderr)
        sys.exit(2)
    if args.action == "parse":
        print(str(query))
        print("anchors: " + " ".join(sorted(str(t) for t in anchors(query.root))))
        return
    run_test(
        query,
        sys.stdin,
        sys.stdout,
        lang=args.lang,
        source=args.source,
        domain=args.domain,
        as_json=args.json,
    )


def run_test(query, lines, out: TextIO, *, lang=None, source=None, domain=None, as_json=False) -> None:
    from palabre.nlp.matcher import QueryMatcher

    matcher = QueryMatcher({0: query})
    for line in lines:
        text = line.rstrip("\r\n")
        found = matcher.match(text, lang=lang, source=source, domain=domain)
        spans = found[0].spans if found else ()
        if as_json:
            record = {
                "match": bool(found),
                "spans": [list(s) for s in spans],
                "terms": [text[a:b] for a, b in spans],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif found:
            out.write("1\t" + ",".join(f"{a}-{b}" for a, b in spans) + "\n")
        else:
            out.write("0\n")
        out.flush()
