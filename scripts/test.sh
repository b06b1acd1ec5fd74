#!/usr/bin/env bash
# Palabre's test command: lint, then the whole suite on SQLite (browser tests included),
# then again on a throwaway PostgreSQL server. Exits non-zero when any part fails.
#
# Made for a fresh Debian 12 machine (run as root: it installs the missing Debian packages),
# and safe to run again and again: it reuses .venv and the installed packages when they are
# up to date. As a normal user it only needs the packages to be there already.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

postgres_bin() {
    # Debian installs each major version under its own folder; take the newest.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

# --- 1. Debian packages ----------------------------------------------------------------------
missing=()
[ -n "$(postgres_bin)" ] || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
"$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
# The e-mail connector's tests run a private IMAP server.
[ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
# The WordPress tests (marked `wordpress`) serve Debian's WordPress with PHP's built-in server on
# a private MariaDB server of their own (not the system's services).
[ -f /usr/share/wordpress/wp-settings.php ] || missing+=(wordpress)
command -v php >/dev/null 2>&1 || missing+=(php-cli)
php -m 2>/dev/null | grep -qx mysqli || missing+=(php-mysql)
[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
# Shared state of several processes (PALABRE_REDIS_URL): a throwaway Redis, like PostgreSQL.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# The IRC connector's tests run a private IRC server on loopback.
[ -x /usr/sbin/ngircd ] || command -v ngircd >/dev/null 2>&1 || missing+=(ngircd)
# The analytics PDF report: WeasyPrint lays the text out with Pango.
/sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#missing[@]} -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    apt_log=$(mktemp /tmp/palabre-apt.XXXXXX.log)
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$apt_log" 2>&1 \
        || ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >>"$apt_log" 2>&1; then
        tail -n 30 "$apt_log" >&2
        die "apt-get failed (full log: $apt_log)"
    fi
    rm -f "$apt_log"
fi

# --- 2. Virtual environment ------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sys" >/dev/null 2>&1; then
    say "Creating the virtual environment in .venv"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "could not create $VENV"
fi
# Reinstall only when the declared dependencies changed (the install is editable: code changes
# need nothing).
stamp="$VENV/.palabre-test-installed"
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || ! "$VENV/bin/python" -c "import palabre, pytest" 2>/dev/null; then
    say "Installing Palabre and its test dependencies"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip || die "pip upgrade failed"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]" || die "pip install failed"
    echo "$wanted" >"$stamp"
fi
export PATH="$VENV/bin:$PATH"
# Every pytest process, xdist worker and `palabre` subprocess the tests start imports Palabre and
# its tests: compiled once and kept (__pycache__, ignored by git), not compiled again in each
# (about half of a process's start-up CPU where the environment sets PYTHONDONTWRITEBYTECODE).
unset PYTHONDONTWRITEBYTECODE

failures=()
failed_tests=()
PART_LOG=$(mktemp /tmp/palabre-test-part.XXXXXX.log)
note_failure() {
    # The failing tests' names are repeated at the very end, where a CI log that keeps only its tail
    # still shows them.
    local name=$1 log=$2 line
    failures+=("$name")
    while IFS= read -r line; do
        failed_tests+=("$name: $line")
    done < <(grep -E '^(FAILED|ERROR) |^INTERNALERROR> [A-Za-z.]*Error|^[A-Za-z.]*Error: ' "$log" | tail -n 20 | cut -c1-300)
}
run_part() {
    local name=$1 start=$SECONDS
    shift
    say "$name"
    if "$@" 2>&1 | tee "$PART_LOG"; then
        say "$name: passed in $((SECONDS - start)) s"
        return 0
    fi
    say "$name: failed after $((SECONDS - start)) s"
    note_failure "$name" "$PART_LOG"
}
# Parts may run in the background, beside the next ones (start_beside, then end_beside): the output
# of each is shown when they have all ended, in the order they started.
beside_pids=()
beside_names=()
beside_logs=()
start_beside() {
    local log
    log=$(mktemp /tmp/palabre-test-beside.XXXXXX.log)
    beside_names+=("$1")
    beside_logs+=("$log")
    say "$1: started beside the next parts (its output comes when it ends)"
    shift
    # Its exit status and how long it took go to a file of their own, read by end_beside.
    (
        start=$SECONDS
        status=0
        "$@" || status=$?
        printf '%s %s\n' "$status" "$((SECONDS - start))" >"$log.status"
        exit "$status"
    ) >"$log" 2>&1 &
    beside_pids+=($!)
}
end_beside() {
    local i status seconds
    for i in "${!beside_pids[@]}"; do
        wait "${beside_pids[$i]}"
        read -r status seconds <"${beside_logs[$i]}.status" || status=1
        say "${beside_names[$i]}"
        cat "${beside_logs[$i]}"
        if [ "$status" -eq 0 ]; then
            say "${beside_names[$i]}: passed in $seconds s"
        else
            say "${beside_names[$i]}: failed after ${seconds:-?} s"
            note_failure "${beside_names[$i]}" "${beside_logs[$i]}"
        fi
        rm -f "${beside_logs[$i]}" "${beside_logs[$i]}.status"
    done
    beside_pids=()
}

# --- 3. Lint ---------------------------------------------------------------------------------
lint_paths=()
for path in src tests bench; do
    [ -e "$path" ] && lint_paths+=("$path")
done
run_part "ruff check" ruff check --quiet "${lint_paths[@]}"
run_part "ruff format --check" ruff format --check --quiet "${lint_paths[@]}"
# The architecture of DESIGN.md: the import contracts of pyproject.toml (docs/architecture.md).
run_part "import contracts" lint-imports --no-cache

# --- 4. A throwaway PostgreSQL server --------------------------------------------------------
PGBIN=$(postgres_bin)
[ -n "$PGBIN" ] || die "PostgreSQL binaries not found"
PGTMP=$(mktemp -d /tmp/palabre-pg.XXXXXX)
PGPORT=${PALABRE_TEST_PGPORT:-54329}
while "$PYTHON" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', int(sys.argv[1]))) != 0)" "$PGPORT"; do
    PGPORT=$((PGPORT + 1))
done

if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: the server runs as Debian's postgres system user.
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user to run PostgreSQL as"
    chown postgres: "$PGTMP"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

stop_postgres() {
    # Interrupted: a part still running beside is stopped as Ctrl-C stops one (SIGINT to its pytest,
    # which stops its browser, servers and workers).
    local pid log
    for pid in "${beside_pids[@]}"; do
        pkill -INT -P "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for log in "${beside_logs[@]}"; do
        rm -f "$log" "$log.status"
    done
    if [ -n "${REDIS_TMP:-}" ] && [ -f "$REDIS_TMP/redis.pid" ]; then
        kill "$(cat "$REDIS_TMP/redis.pid")" 2>/dev/null
    fi
    [ -n "${REDIS_TMP:-}" ] && rm -rf "$REDIS_TMP"
    [ -n "${PALABRE_TEST_TEMPLATES:-}" ] && rm -rf "$PALABRE_TEST_TEMPLATES"
    if [ -f "$PGTMP/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$PGTMP"
    rm -f "$PART_LOG"
}
trap stop_postgres EXIT
trap 'exit 130' INT TERM

say "Starting PostgreSQL ($(basename "$(dirname "$PGBIN")")) on 127.0.0.1:$PGPORT"
if ! as_pg "$PGBIN/initdb" -D "$PGTMP/data" -U palabre -A trust -E UTF8 --locale=C.UTF-8 >"$PGTMP/initdb.log" 2>&1; then
    cat "$PGTMP/initdb.log" >&2
    die "initdb failed"
fi
# Durability is worthless for a throwaway test server; speed is not. It serves the PostgreSQL pass,
# which runs niced beside other parts (section 5): so does the server.
NICE=${PALABRE_TEST_NICE:-10}
if ! as_pg nice -n "$NICE" "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 \
    -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null; then
    cat "$PGTMP/server.log" >&2
    die "PostgreSQL did not start"
fi
as_pg "$PGBIN/createdb" -h "$PGTMP" -p "$PGPORT" -U palabre palabre || die "createdb failed"
export PALABRE_TEST_POSTGRES_URL="postgres://palabre@127.0.0.1:$PGPORT/palabre"

# --- 4b. A throwaway Redis server (no disk: nothing to keep) --------------------------------
REDIS_TMP=$(mktemp -d /tmp/palabre-redis.XXXXXX)
REDIS_PORT=${PALABRE_TEST_REDIS_PORT:-63790}
while "$PYTHON" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', int(sys.argv[1]))) != 0)" "$REDIS_PORT"; do
    REDIS_PORT=$((REDIS_PORT + 1))
done
say "Starting Redis on 127.0.0.1:$REDIS_PORT"
nice -n "$NICE" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$REDIS_TMP" --pidfile "$REDIS_TMP/redis.pid" --logfile "$REDIS_TMP/redis.log" || die "Redis did not start"
for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
export PALABRE_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

# --- 5. The suite, on SQLite then on PostgreSQL ----------------------------------------------
# The first pytest process that needs a test database migrates it and keeps it as a template for
# the other processes of every part (tests/conftest.py): one migration per database, not nine.
PALABRE_TEST_TEMPLATES=$(mktemp -d /tmp/palabre-test-templates.XXXXXX)
export PALABRE_TEST_TEMPLATES
# Tests run in one process per core (pytest-xdist, a test file per process at a time), but
# browser tests and the real WordPress run in one process of their own: they time pages, and
# starve on a busy machine.
# Each part alone leaves a core idle for long stretches (a browser test keeps about one busy; the
# passes wait for the servers and workers their tests start, and for their last file), so they run
# side by side: the browser tests beside the SQLite pass (and the next ones if they outlast it),
# the date-sensitive pass beside the PostgreSQL pass. The passes run niced (PALABRE_TEST_NICE, 10),
# so that the browser tests get the processor whenever they want it and the passes take what they
# leave. The SQLite and PostgreSQL passes do not run at once: their Redis tests share databases.
# With PALABRE_TEST_PROCESSES=1 the parts run one after the other.
PROCESSES=${PALABRE_TEST_PROCESSES:-auto}
CLOCK_INSTANTS=sunday-night,spring-forward,fall-back,new-year-eve
mapfile -t clock_files < <(grep -rlE --include='*.py' 'mark\.clock' tests | sort)
browser_tests() {
    env -u PALABRE_DATABASE_URL pytest -q --durations=10 -m "e2e or wordpress"
}
# The browser tests marked `clock` run again at the four instants in a process of their own, not
# niced (niced, their pages starved: a post's drop or submission not answered in 15 to 60 s), beside
# the PostgreSQL pass rather than in the browser part beside the SQLite pass: the SQLite pass is the
# longer one, and a browser beside it slows it most.
clock_browser_tests=(env -u PALABRE_DATABASE_URL pytest -q -m "clock and (e2e or wordpress)"
    --clock "$CLOCK_INSTANTS" "${clock_files[@]}")
[ "$PROCESSES" = 1 ] || start_beside "browser and WordPress tests on SQLite" browser_tests
run_part "pytest on SQLite (all but browser and WordPress tests, $PROCESSES processes)" \
    nice -n "$NICE" env -u PALABRE_DATABASE_URL pytest -q --durations=10 -n "$PROCESSES" --dist loadfile \
    -m "not e2e and not wordpress"
# Date code breaks on some days only: the tests marked `clock` run again at the instants that
# have broken it before (tests/conftest.py names them), so a Friday never blocks anyone.
# Only the files that hold such tests are collected, in one run for the four instants (each test
# once per instant, `test_x[fall-back]`; a file's tests at one instant go to a worker together),
# in one process per core as the main pass (four runs cost three more start-ups and databases).
clock_tests=(nice -n "$NICE" env -u PALABRE_DATABASE_URL pytest -q -n "$PROCESSES" --dist loadgroup
    -m "clock and not e2e and not wordpress" --clock "$CLOCK_INSTANTS" "${clock_files[@]}")
if [ "$PROCESSES" = 1 ]; then
    run_part "browser and WordPress tests on SQLite" browser_tests
    run_part "browser tests at four instants (SQLite)" "${clock_browser_tests[@]}"
    run_part "date-sensitive tests at four instants (SQLite, $PROCESSES processes)" "${clock_tests[@]}"
else
    start_beside "browser tests at four instants (SQLite)" "${clock_browser_tests[@]}"
    start_beside "date-sensitive tests at four instants (SQLite, $PROCESSES processes)" "${clock_tests[@]}"
fi
run_part "pytest on PostgreSQL and Redis (all but browser and WordPress tests, $PROCESSES processes)" \
    nice -n "$NICE" env PALABRE_DATABASE_URL="$PALABRE_TEST_POSTGRES_URL" PALABRE_REDIS_URL="$PALABRE_TEST_REDIS_URL" \
    pytest -q --durations=10 -n "$PROCESSES" --dist loadfile \
    -m "not e2e and not wordpress"
end_beside

if [ ${#failures[@]} -gt 0 ]; then
    printf '\nFAILED:\n' >&2
    printf '  - %s\n' "${failures[@]}" >&2
    if [ ${#failed_tests[@]} -gt 0 ]; then
        printf '\nFailing tests:\n' >&2
        printf '  - %s\n' "${failed_tests[@]}" >&2
    fi
    exit 1
fi
printf '\nAll checks passed.\n'
