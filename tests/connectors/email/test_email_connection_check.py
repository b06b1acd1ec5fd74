"""Connecting an e-mail channel logs in to SMTP too (nothing sent): a wrong SMTP password shows at
the connection check, before the first reply fails. Against the test's Dovecot and aiosmtpd."""

from __future__ import annotations

import pytest

from palabre.connectors import services
from palabre.orgs.services import set_channel_credentials

pytestmark = pytest.mark.django_db


def test_the_connection_check_logs_in_to_smtp(mailbox, mail_channel, smtp_server, owner_actor):
    sync = services.check_channel(actor=owner_actor, channel=mail_channel)
    assert sync.last_error_code == "" and sync.account
    assert sync.permissions_checked == "verified"  # read (IMAP) and reply (SMTP) both logged in
    credentials = mail_channel.read_credentials() | {"smtp_password": "wrong"}
    set_channel_credentials(actor=owner_actor, channel=mail_channel, credentials=credentials)
    sync = services.check_channel(actor=owner_actor, channel=mail_channel)
    assert sync.last_error_code == "token_expired" and "SMTP login refused" in sync.last_error
    assert smtp_server.received == []  # nothing was sent to find out


def test_a_channel_without_smtp_is_a_partial_check(mailbox, mail_channel, owner_actor):
    credentials = {
        key: value for key, value in mail_channel.read_credentials().items() if not key.startswith("smtp_")
    }
    set_channel_credentials(actor=owner_actor, channel=mail_channel, credentials=credentials)
    sync = services.check_channel(actor=owner_actor, channel=mail_channel)
    assert sync.last_error_code == ""
    assert sync.permissions_checked == "partial" and "cannot send replies" in sync.permissions_note
