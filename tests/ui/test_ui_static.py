"""The stylesheet and the vendored htmx ship with the package and are served without a build step."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.urls import reverse

import palabre


def test_static_assets_are_found():
    # Needs STATICFILES_DIRS = [BASE_DIR / "static"] in settings: src/palabre/static is no app's folder.
    for path in ("palabre/app.css", "palabre/vendor/htmx.min.js"):
        assert finders.find(path), path


def test_vendored_htmx_keeps_its_licence():
    htmx = Path(palabre.__file__).parent / "static" / "palabre" / "vendor" / "htmx.min.js"
    with htmx.open(encoding="utf-8") as handle:
        head = handle.read(800)
    assert "htmx" in head and "0BSD" in head


def test_pages_load_the_stylesheet_and_htmx(world, owner_client):
    content = owner_client.get(reverse("home")).content.decode()
    assert "palabre/app.css" in content and "palabre/vendor/htmx.min.js" in content
    assert "X-CSRFToken" in content  # htmx posts carry the CSRF token
