"""Without ../shared/datasets: `palabre train` says what is missing in one line and fails; the
listening benchmark runs on its built-in samples, as its help promises (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def palabre(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "palabre", *args],
        env=os.environ.copy(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_train_without_data_sets_fails_with_one_clear_line(tmp_path):
    result = palabre("train", "--out", str(tmp_path / "models"), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("palabre train: no labelled data sets in ../shared/datasets")
    assert "--datasets" in line
    assert not (tmp_path / "models").exists()


def test_the_listening_benchmark_runs_on_its_samples_without_data_sets(tmp_path):
    result = palabre(
        "bench",
        "--bench-dir",
        str(ROOT / "bench"),
        "listening",
        "--datasets",
        str(tmp_path / "absent"),
        "--posts",
        "200",
        "--sizes",
        "10,100",
        "--repeats",
        "1",
        "--no-memory",
        "--json-out",
        str(tmp_path / "out.json"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "built-in sample posts" in result.stderr
    report = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert report["corpus_posts"] == 200
    assert [run["queries"] for run in report["runs"]] == [10, 100]


def test_eval_without_data_sets_fails_with_one_clear_line(tmp_path):
    result = palabre("eval", "--datasets", str(tmp_path / "absent"), cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"palabre eval: no data sets folder {tmp_path / 'absent'}; give it with --datasets."
    )


def test_bench_outside_a_clone_says_where_the_benchmarks_are(tmp_path):
    result = palabre("bench", "listening", cwd=tmp_path)
    assert result.returncode == 1
    assert "no benchmarks folder bench" in result.stderr
    assert "--bench-dir" in result.stderr
