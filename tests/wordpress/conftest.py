"""A real WordPress (Debian's package, PHP's built-in server, a private MariaDB) for the session.

`wordpress` is the running site (see wordpress_site.WordPressSite for its helpers: create_post,
post_comment, comment_status, set_option, add_plugin, activate_plugin, php...). Tests that use it
are marked `wordpress` and skipped, with the reason, where Debian's wordpress, php-cli, php-mysql
or mariadb-server are missing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from wordpress_site import missing, start_wordpress


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.wordpress)


@pytest.fixture(scope="session")
def wordpress():
    reason = missing()
    if reason:
        pytest.skip(reason)
    # A short path: MariaDB's socket path must stay under 108 bytes.
    parent = tempfile.gettempdir()
    root = Path(tempfile.mkdtemp(prefix="palabre-wp-", dir=parent if len(parent) < 40 else "/tmp"))
    site = start_wordpress(root)
    yield site
    site.stop()
    site.database.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def wordpress_loopback(wordpress, allow_loopback):
    """The site, reachable through Palabre's address guard."""
    return wordpress
