"""`palabre query test` and `palabre query parse`, run as a person would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def palabre_query(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "palabre", "query", *args],
        input=stdin,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


TEXTS = "J'adore l’avion d'Air-France\nrien à voir\n\nLes chevaux de #MaisonLumière\r\n"


def test_each_line_gives_1_and_its_spans_or_0():
    done = palabre_query("test", '"air france" OR cheval OR #maisonlumiere', stdin=TEXTS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["1\t18-28", "0", "0", "1\t4-11,15-29"]
    assert done.stderr == ""


def test_json_lines_give_the_spans_and_the_matched_terms():
    done = palabre_query("test", "--json", "avion NEAR/3 france", stdin=TEXTS)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert records[0] == {"match": True, "spans": [[10, 15], [22, 28]], "terms": ["avion", "France"]}
    assert [r["match"] for r in records] == [True, False, False, False]


def test_filters_read_the_options():
    query = "avion lang:fr source:reddit domain:lemonde.fr"
    text = "un avion\n"
    assert palabre_query("test", query, stdin=text).stdout == "0\n"
    both = palabre_query(
        "test", query, "--lang", "fr", "--source", "reddit", "--domain", "www.lemonde.fr", stdin=text
    )
    assert both.stdout == "1\t3-8\n"


def test_an_invalid_query_exits_with_status_2_and_points_at_the_problem():
    done = palabre_query("test", "renault AND (clio OR megane", stdin="renault clio\n")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "palabre: invalid query: Missing closing parenthesis for the one opened at position 12"
        " [unbalanced_parenthesis]",
        "  renault AND (clio OR megane",
        "              ^",
    ]


def test_parse_prints_the_canonical_form_and_the_anchors():
    done = palabre_query("parse", "Renault peugeot OR #Clio -panne")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "(renault AND peugeot) OR (#clio AND NOT panne)",
        "anchors: #clio renault",
    ]
    refused = palabre_query("parse", "NOT panne")
    assert refused.returncode == 2 and "[no_positive_term]" in refused.stderr


def test_bytes_that_are_not_utf8_do_not_stop_the_stream():
    done = subprocess.run(
        [sys.executable, "-m", "palabre", "query", "test", "avion"],
        input="caf\xe9 l'avion\nun avion\n".encode("latin-1"),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == ["1\t7-12", "1\t3-8"]
