"""A private Dovecot (IMAP) for the session and an aiosmtpd SMTP server, both on loopback."""

from __future__ import annotations

import imaplib

import pytest
from mail_servers import BRAND, BRAND_PASSWORD, DOVECOT, start_dovecot, start_smtp

SMTP_USER = "relay-user"
SMTP_PASSWORD = "smtp-secret-2024"


@pytest.fixture(scope="session")
def dovecot():
    if DOVECOT is None:
        pytest.skip(
            "Debian's dovecot-imapd is not installed (scripts/test.sh installs it): no IMAP server to test against"
        )
    server = start_dovecot({BRAND: BRAND_PASSWORD})
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot):
    """The brand's INBOX on the real server, emptied before each test; `deliver(bytes)` drops a message in."""
    client = imaplib.IMAP4(dovecot.host, dovecot.port)
    client.login(BRAND, BRAND_PASSWORD)
    client.select("INBOX")
    if client.search(None, "ALL")[1][0]:
        client.store("1:*", "+FLAGS", "\\Deleted")
        client.expunge()

    class Mailbox:
        server = dovecot

        def deliver(self, raw: bytes) -> None:
            status, _data = client.append("INBOX", None, None, raw)
            assert status == "OK"

    yield Mailbox()
    client.logout()


@pytest.fixture
def smtp_server():
    server = start_smtp(SMTP_USER, SMTP_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def mail_channel(org, make_channel, dovecot, smtp_server, allow_loopback):
    return make_channel(
        org,
        "email",
        handle=BRAND,
        name="Service client Maison Dupont",
        credentials={
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": BRAND,
            "password": BRAND_PASSWORD,
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "smtp_username": SMTP_USER,
            "smtp_password": SMTP_PASSWORD,
        },
    )
