"""Browser tests: Debian's chromium driven by Playwright's sync API, one browser per test."""

from __future__ import annotations

import os
import shutil
import threading

import pytest

playwright = pytest.importorskip("playwright.sync_api")
# A machine busy with other work answers slower than Playwright's five seconds for `expect`.
playwright.expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Every test of this folder is a browser test, marked or not: the test command runs them
    # apart, alone, since they starve beside other work.
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.path).startswith(here + os.sep):
            item.add_marker(pytest.mark.e2e)
    if shutil.which(CHROMIUM):
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium at /usr/bin/chromium")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


_RUNNING: list = []  # the browser of the module under way


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a file's tests (starting Playwright and the browser costs about 1.5 s); each
    test works in browser contexts of its own (fresh profiles: cookies, storage, cache), all closed
    when it ends (`_close_contexts`). The Playwright loop ends with the file, before the next
    file's tests, which may not run beside an event loop."""
    # Playwright's sync API runs an event loop in this thread; Django's ORM must allow it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        _RUNNING.append(launched)
        try:
            yield launched
        finally:
            _RUNNING.remove(launched)
            launched.close()


def _close_every_context() -> None:
    for launched in _RUNNING:
        for context in list(launched.contexts):
            context.close()


class _OneRequestAtATime:
    """The live server's application behind a lock, its body read inside it. With SQLite in memory
    the live server's threads share the test's one connection: a page's background call (the
    thread's presence, every few seconds) answered while the page itself loads mixed their
    savepoints, and the broken transaction then failed every later test of the run."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                if hasattr(result, "close"):
                    result.close()


@pytest.fixture(autouse=True)
def _one_request_at_a_time(request):
    """For a browser test only (the live server is the session's, shared with API tests that want
    their requests side by side), and put back after it."""
    if "live_server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("live_server").thread.httpd
    app = server.get_app()
    server.set_app(_OneRequestAtATime(app))
    try:
        yield
    finally:
        server.set_app(app)


@pytest.fixture(autouse=True)
def _close_contexts():
    """No page of a test outlives it, even a test that failed before closing its own: the next test
    of the file shares the browser."""
    yield
    _close_every_context()


def _new_page(browser, *, width: int = 1280):
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def new_page(browser):
    """`new_page(width=...)`: a fresh profile (its own cookies and localStorage) with one page."""
    yield lambda width=1280: _new_page(browser, width=width)
    # Before the live server's database is emptied (fixtures set up earlier end later).
    _close_every_context()


def _sign_in(page, url: str, username: str, password: str, *, lang: str | None = None) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form.stacked button[type=submit]")
    if lang:
        page.click(f"form.lang button[value={lang}]")
        playwright.expect(page.locator("html")).to_have_attribute("lang", lang)


@pytest.fixture
def sign_in():
    """`sign_in(page, url, username, password, lang=None)`: through the login form, as a person
    does; with `lang`, the interface then switched to that language (the person's choice, kept)."""
    return _sign_in


@pytest.fixture
def browser_page(browser):
    page = _new_page(browser)
    yield page
    page.context.close()


_DEMO_DUMP: dict[str, str] = {}


@pytest.fixture
def demo(transactional_db, tmp_path_factory):
    """The demo brand in the database, and its people's password.

    Loading the demo analyses every item (about 15 s); the first test loads it and keeps it as a
    fixture file, the next ones load that file (about 1 s). Every test starts at the same instant,
    so the demo's dates relative to "now" stay right."""
    from django.core.management import call_command

    from palabre.demo.loader import DEMO_PASSWORD, load_demo

    if "path" in _DEMO_DUMP:
        call_command("loaddata", _DEMO_DUMP["path"], verbosity=0)
        return DEMO_PASSWORD
    load_demo()
    path = tmp_path_factory.mktemp("demo") / "demo.json"
    # Content types and permissions come back with the flushed database; natural keys find them.
    call_command(
        "dumpdata",
        "--natural-foreign",
        "--exclude=contenttypes",
        "--exclude=auth.permission",
        "--exclude=sessions",
        output=str(path),
        verbosity=0,
    )
    _DEMO_DUMP["path"] = str(path)
    return DEMO_PASSWORD
