"""E-mail end to end: a real IMAP server (Dovecot) and a real SMTP server (aiosmtpd) on loopback,
the connector speaking to them with imaplib and smtplib through the framework's pull and outbox."""

from __future__ import annotations

import json

import pytest
from mail_servers import BRAND

from palabre.connectors import services
from palabre.connectors.base import TokenExpired, TransientError
from palabre.connectors.mail import EmailConnector
from palabre.connectors.models import ActionStatus, ChannelSync
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item

# The loopback SMTP server takes a password without TLS, as only a test server should.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

QUESTION = (
    "From: =?utf-8?q?L=C3=A9a_Martin?= <lea.martin@example.org>\r\n"
    f"To: Maison Dupont <{BRAND}>\r\n"
    "Subject: =?utf-8?q?Commande_4521_toujours_pas_arriv=C3=A9e?=\r\n"
    "Date: Mon, 06 May 2024 11:12:00 +0200\r\n"
    "Message-ID: <CAF3u+lea-4521@mail.example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Bonjour,\r\n\r\nma commande 4521 n'est toujours pas arrivée. Pouvez-vous vérifier ?\r\n\r\nLéa\r\n"
).encode()


def customer_answer(in_reply_to: str, references: str) -> bytes:
    return (
        "From: Léa Martin <lea.martin@example.org>\r\n"
        f"To: {BRAND}\r\n"
        "Subject: Re: Commande 4521 toujours pas arrivée\r\n"
        "Date: Mon, 06 May 2024 15:00:00 +0200\r\n"
        "Message-ID: <CAF3u+lea-4521-2@mail.example.org>\r\n"
        f"In-Reply-To: {in_reply_to}\r\n"
        f"References: {references}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=b1\r\n"
        "\r\n"
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Merci, bien reçue ce matin !\r\n\r\nLe lun. 6 mai 2024, Maison Dupont a écrit :\r\n> Bonjour Léa\r\n"
        "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Merci, bien reçue ce matin !</p>\r\n"
        "--b1--\r\n"
    ).encode()


def test_a_customer_mail_comes_in_once(mailbox, mail_channel):
    mailbox.deliver(QUESTION)
    assert pull_channel(mail_channel.pk)["items"] == 1
    item = Item.objects.get(channel=mail_channel)
    assert item.external_id == "CAF3u+lea-4521@mail.example.org" and item.kind == "direct_message"
    assert (
        item.text == "Bonjour,\n\nma commande 4521 n'est toujours pas arrivée. Pouvez-vous vérifier ?\n\nLéa"
    )
    assert item.author.handle == "lea.martin@example.org" and item.author.display_name == "Léa Martin"
    assert item.raw["subject"] == "Commande 4521 toujours pas arrivée"
    assert item.created_at.isoformat() == "2024-05-06T09:12:00+00:00"
    cursor = json.loads(ChannelSync.objects.get(channel=mail_channel).cursor)
    assert cursor["last_uid"] >= 1 and cursor["uidvalidity"]
    # Read-only: the message is still unread for the people who use the mailbox directly.
    assert pull_channel(mail_channel.pk, force=True)["items"] == 0
    assert Item.objects.filter(channel=mail_channel).count() == 1


def test_reply_over_smtp_and_the_answer_threads_back(mailbox, mail_channel, smtp_server, owner_actor):
    mailbox.deliver(QUESTION)
    pull_channel(mail_channel.pk)
    question = Item.objects.get(channel=mail_channel)
    action = services.queue_reply(
        actor=owner_actor, item=question, text="Bonjour Léa, votre colis est parti ce matin. Claire"
    )
    assert services.deliver(action.pk).outcome == "sent"
    [sent] = smtp_server.received
    assert sent["login"] is True and sent["to"] == ["lea.martin@example.org"] and sent["from"] == BRAND
    message = sent["message"]
    assert message["Subject"] == "Re: Commande 4521 toujours pas arrivée"
    assert message["In-Reply-To"] == "<CAF3u+lea-4521@mail.example.org>"
    assert message["References"] == "<CAF3u+lea-4521@mail.example.org>"
    assert message["From"] == f"Service client Maison Dupont <{BRAND}>"
    assert message.get_content().strip() == "Bonjour Léa, votre colis est parti ce matin. Claire"
    action.refresh_from_db()
    brand_id = message["Message-ID"].strip("<>")
    assert action.external_id == brand_id and brand_id.endswith("@maison-dupont.fr")
    brand_reply = Item.objects.get(channel=mail_channel, external_id=brand_id)
    assert brand_reply.parent == question and brand_reply.author.handle == BRAND
    # Léa answers the brand's mail: it joins the same thread, quoted text left out.
    mailbox.deliver(
        customer_answer(message["Message-ID"], f"<CAF3u+lea-4521@mail.example.org> {message['Message-ID']}")
    )
    assert pull_channel(mail_channel.pk, force=True)["items"] == 1
    answer = Item.objects.get(channel=mail_channel, external_id="CAF3u+lea-4521-2@mail.example.org")
    assert answer.parent == brand_reply and answer.thread_root == question
    assert answer.text == "Merci, bien reçue ce matin !"


def test_the_same_key_gives_the_same_message_id(mail_channel, ingest):
    item = ingest(mail_channel, "x@example.org", author="lea.martin@example.org", raw={"subject": "Bonjour"})
    connector = EmailConnector()
    first = connector.build_reply(mail_channel, in_reply_to=item, text="a", idempotency_key="k1")
    again = connector.build_reply(mail_channel, in_reply_to=item, text="a", idempotency_key="k1")
    other = connector.build_reply(mail_channel, in_reply_to=item, text="a", idempotency_key="k2")
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first["Subject"] == "Re: Bonjour"


def test_an_unreadable_message_does_not_block_the_mailbox(mailbox, mail_channel):
    mailbox.deliver(b"this is not a mail at all\r\n")
    mailbox.deliver(QUESTION)
    assert pull_channel(mail_channel.pk)["items"] == 1
    cursor = json.loads(ChannelSync.objects.get(channel=mail_channel).cursor)
    assert len(cursor["skipped"]) == 1


def test_wrong_imap_password(mailbox, org, make_channel, dovecot, allow_loopback):
    channel = make_channel(
        org,
        "email",
        handle="autre@maison-dupont.fr",
        credentials={
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": BRAND,
            "password": "wrong",
        },
    )
    with pytest.raises(TokenExpired, match="IMAP login refused"):
        EmailConnector().pull(channel, "")
    assert pull_channel(channel.pk)["error"] == "token_expired"
    assert ChannelSync.objects.get(channel=channel).consecutive_failures == 1


def test_wrong_smtp_password_fails_the_reply(mailbox, mail_channel, owner_actor, ingest):
    from palabre.orgs.services import Actor, set_channel_credentials

    credentials = mail_channel.read_credentials() | {"smtp_password": "wrong"}
    set_channel_credentials(
        actor=Actor.palabre(mail_channel.organisation), channel=mail_channel, credentials=credentials
    )
    item = ingest(mail_channel, "m1@example.org", author="lea.martin@example.org")
    action = services.queue_reply(actor=owner_actor, item=item, text="Bonjour")
    assert services.deliver(action.pk).outcome == "failed"
    action.refresh_from_db()
    assert action.last_error_code == "token_expired" and "SMTP login refused" in action.last_error


def test_smtp_server_down_is_retried(mail_channel, owner_actor, ingest):
    from mail_servers import free_port

    from palabre.orgs.services import Actor, set_channel_credentials

    nobody_listens = mail_channel.read_credentials() | {"smtp_port": free_port()}
    set_channel_credentials(
        actor=Actor.palabre(mail_channel.organisation), channel=mail_channel, credentials=nobody_listens
    )
    item = ingest(mail_channel, "m2@example.org", author="lea.martin@example.org")
    with pytest.raises(TransientError) as error:
        EmailConnector().reply(mail_channel, in_reply_to=item, text="Bonjour", idempotency_key="k")
    assert error.value.maybe_delivered is False
    action = services.queue_reply(actor=owner_actor, item=item, text="Bonjour")
    assert services.deliver(action.pk).outcome == "retry"
    action.refresh_from_db()
    assert action.status == ActionStatus.QUEUED


def test_a_message_over_the_limit_is_skipped_without_being_read_whole(mailbox, mail_channel, monkeypatch):
    """imaplib reads a fetched message whole into memory: a 2 GB attachment, or a hostile server
    announcing one, filled the worker before the size was checked. Palabre asks for at most one
    byte more than it keeps, and refuses a server that sends more than it asked."""
    import imaplib

    from palabre.connectors import mail

    monkeypatch.setattr(mail, "MAX_MESSAGE_BYTES", 50_000)
    literals = []
    real = imaplib.IMAP4.read

    def spy(self, size):
        literals.append(size)
        return real(self, size)

    monkeypatch.setattr(imaplib.IMAP4, "read", spy)
    attachment = b"Content-Type: text/plain\r\n\r\n" + b"x" * 76 + b"\r\n"
    mailbox.deliver(QUESTION.replace(b"\r\n\r\n", b"\r\n\r\n" + attachment * 3000, 1))
    mailbox.deliver(QUESTION.replace(b"Message-ID: <", b"Message-ID: <second-", 1))
    assert pull_channel(mail_channel.pk)["items"] == 1  # the small one; the large one stays on the server
    assert max(literals) <= 50_001
