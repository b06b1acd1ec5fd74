"""Security headers: a Content-Security-Policy on every page, and HTTPS settings with PALABRE_HTTPS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.urls import reverse

HEADER = "Content-Security-Policy"


def directives(response) -> dict[str, list[str]]:
    policy = response[HEADER]
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def test_pages_carry_a_strict_policy(client, db):
    policy = directives(client.get(reverse("login")))
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "upgrade-insecure-requests" not in policy  # plain HTTP here


def test_without_https_cookies_are_not_secure_and_no_hsts(client, db):
    response = client.get(reverse("login"))
    assert not response.has_header("Strict-Transport-Security")
    assert not response.cookies["csrftoken"]["secure"]


class ScriptsAndHandlers(HTMLParser):
    """What a strict policy would block: inline scripts, event attributes, javascript: links,
    htmx attributes that evaluate code."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script":
            source = values.get("src")
            if source is None:
                self._in_inline_script = True
            else:
                self.scripts.append(source)
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.blocked.append(f"<{tag} {name}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}={value}>")
            if name in {"hx-vals", "hx-vars"} and value and "js:" in value:
                self.blocked.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.blocked.append(f"inline script: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


PAGES = [
    "home",
    "inbox:list",
    "conversations:items",
    "moderation:queue",
    "listening:overview",
    "publishing:calendar",
    "channels",
    "members",
    "audit",
    "tokens",
    "permissions",
    "password_change",
]


def test_no_page_needs_what_the_policy_blocks(client, org, owner):
    client.force_login(owner)
    seen_scripts = set()
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert response.has_header(HEADER), name
        parser = ScriptsAndHandlers()
        parser.feed(response.content.decode())
        assert parser.blocked == [], name
        assert all(src.startswith("/static/") for src in parser.scripts), (name, parser.scripts)
        seen_scripts.update(parser.scripts)
    assert any("htmx" in src for src in seen_scripts)


def test_the_widget_page_is_framed_by_its_site_only_under_the_pages_policy(client, org):
    from palabre.moderation.services import create_moderation_site
    from palabre.orgs.services import Actor

    site, _key = create_moderation_site(actor=Actor.palabre(org), name="Blog", url="https://blog.example.fr/")
    response = client.get(
        reverse("widget_form", args=[site.public_id]), {"page": "https://blog.example.fr/article"}
    )
    policy = directives(response)
    assert policy["frame-ancestors"] == ["'self'", "https://blog.example.fr"]
    assert policy["script-src"] == ["'self'"]  # and the rest of the pages' policy
    assert policy["form-action"] == ["'self'"]


HTTPS_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
secure = client.get("/login/", secure=True)
proxied = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
plain = client.get("/login/")
print(json.dumps({
    "hsts": secure.get("Strict-Transport-Security"),
    "csp": secure.get("Content-Security-Policy"),
    "csrf_secure": bool(secure.cookies["csrftoken"]["secure"]),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "proxied": proxied.status_code,
    "plain": plain.status_code,
    "plain_location": plain.get("Location"),
}))
"""


@pytest.mark.parametrize("proxies", ["0", "1"])
def test_palabre_https_turns_on_secure_cookies_hsts_and_the_redirect(proxies):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "palabre.settings",
        "PALABRE_HTTPS": "1",
        "PALABRE_PROXY_COUNT": proxies,
        "PALABRE_ALLOWED_HOSTS": "testserver",
    }
    done = subprocess.run(
        [sys.executable, "-c", HTTPS_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["hsts"] == "max-age=31536000"
    assert "upgrade-insecure-requests" in seen["csp"]
    assert seen["csrf_secure"] and seen["session_secure"]
    assert seen["plain"] == 301 and seen["plain_location"] == "https://testserver/login/"
    # Behind a proxy, its X-Forwarded-Proto says the client used HTTPS; otherwise it is ignored.
    assert seen["proxied"] == (200 if proxies == "1" else 301)


def deploy_warnings(**environment: str) -> set[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "palabre.settings",
        "PALABRE_SECRET_KEY": "k" * 20 + "-a-long-and-random-enough-secret-key-for-the-check",
        **environment,
    }
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return set(re.findall(r"\(security\.(W\d+)\)", done.stdout + done.stderr))


def test_with_palabre_https_djangos_deployment_check_only_asks_about_subdomains():
    # HSTS for the subdomains and the browsers' preload list are the domain owner's call.
    assert deploy_warnings(PALABRE_HTTPS="1") == {"W005", "W021"}
    assert {"W004", "W008", "W012", "W016"} <= deploy_warnings(PALABRE_HTTPS="0")
