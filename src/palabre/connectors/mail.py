"""E-mail: messages in over IMAP (imaplib), replies out over SMTP (smtplib), threaded by
Message-ID, In-Reply-To and References.

The channel's handle is the brand's address. Credentials:
`{"imap_host", "imap_port", "imap_security": "ssl"|"starttls"|"none", "username", "password",
"mailbox" (default INBOX), "smtp_host", "smtp_port", "smtp_security", "smtp_username",
"smtp_password"}` (the SMTP login defaults to the IMAP one).

Pulling reads the mailbox without marking anything read, from the last UID seen (the cursor holds
the mailbox's UIDVALIDITY too: when the server renumbers its messages, the mailbox is read again,
and ingestion drops what is already stored). A reply's Message-ID is derived from its idempotency
key, so a duplicate, if a person sends one again after a check, is recognised by mail clients.
SMTP cannot say whether an interrupted delivery went out: such a reply waits for a person's check.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import json
import logging
import re
import smtplib
import socket
import ssl
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses, parsedate_to_datetime

import httpx
from django.utils.translation import gettext_lazy as _

from palabre import config
from palabre.connectors import outbound
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    Delivered,
    FieldKind,
    MalformedPayload,
    PermanentError,
    PullResult,
    TokenExpired,
    TransientError,
)
from palabre.connectors.explain import network_reason
from palabre.connectors.text import html_to_text
from palabre.conversations.services import IncomingAuthor, IncomingItem

logger = logging.getLogger(__name__)

MAX_PER_PULL = 200
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
_QUOTE_HEADER = re.compile(r"^(On .+ wrote|Le .+ a écrit)\s*:\s*$", re.IGNORECASE)


def message_id(value: str | None) -> str:
    """A Message-ID without its angle brackets (how items are keyed)."""
    return (value or "").strip().strip("<>").strip()


def references_of(message) -> list[str]:
    return [message_id(part) for part in re.findall(r"<[^>]+>", str(message.get("References", "")))]


def strip_quoted(text: str) -> str:
    """The new part of a reply: quoted lines and the "On ... wrote:" line that opens them go."""
    kept = []
    for line in text.splitlines():
        if _QUOTE_HEADER.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def body_text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: read what can be read
        content = part.get_payload(decode=True).decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return strip_quoted(content.replace("\r\n", "\n"))


def _timeout() -> float:
    return float(config.CONNECTORS_HTTP_TIMEOUT.raw() or 20)


def _pinned_socket(protocol: str, host: str, port: int, timeout: float | None) -> socket.socket:
    """A connection to a checked address of the server (no second DNS answer between the check and
    the connection); TLS, wrapped by the callers below, keeps the server's name."""
    try:
        return outbound.open_socket(
            f"{protocol}://{f'[{host}]' if ':' in host else host}:{port}", timeout=timeout
        )
    except httpx.HTTPError as error:  # seen by imaplib's and smtplib's callers as a network failure
        raise ConnectionRefusedError(str(error)) from error


class _BoundedLiterals:
    """imaplib reads a literal (a fetched message) whole into memory, whatever size the server
    announces: one larger than Palabre ever asks for is refused before it is read."""

    def read(self, size: int) -> bytes:
        if size > MAX_MESSAGE_BYTES + 1:
            raise imaplib.IMAP4.abort(f"the server announced {size} bytes, more than was asked")
        return super().read(size)


class _PinnedIMAP4(_BoundedLiterals, imaplib.IMAP4):
    def _create_socket(self, timeout):
        return _pinned_socket("imap", self.host, self.port, timeout)


class _PinnedIMAP4SSL(_BoundedLiterals, imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = _pinned_socket("imap", self.host, self.port, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class _PinnedSMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        return _pinned_socket("smtp", host, port, timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    def _get_socket(self, host, port, timeout):
        sock = _pinned_socket("smtp", host, port, timeout)
        return self.context.wrap_socket(sock, server_hostname=self._host)


class EmailConnector(Connector):
    platform = "email"
    capabilities = frozenset({Capability.PULL, Capability.REPLY})
    poll_interval = 120.0
    credential_fields = (
        CredentialField(
            "imap_host",
            _("IMAP server"),
            _(
                "The incoming mail server's name, from the mail provider's settings page (e.g. imap.example.com)."
            ),
            required=True,
        ),
        CredentialField(
            "imap_port", _("IMAP port"), _("Empty: 993 with ssl, 143 otherwise."), kind=FieldKind.INTEGER
        ),
        CredentialField(
            "imap_security",
            _("IMAP security"),
            _("ssl (default), starttls, or none (only on a trusted network)."),
            kind=FieldKind.CHOICE,
            choices=("ssl", "starttls", "none"),
        ),
        CredentialField("username", _("Login"), _("The mailbox's login, often its address."), required=True),
        CredentialField(
            "password",
            _("Password"),
            _("The mailbox's password, or an app password where the provider asks for one."),
            kind=FieldKind.SECRET,
        ),
        CredentialField("mailbox", _("Folder"), _("The folder to read. Empty: INBOX.")),
        CredentialField(
            "smtp_host",
            _("SMTP server"),
            _("The outgoing mail server's name, needed to reply (e.g. smtp.example.com)."),
        ),
        CredentialField(
            "smtp_port", _("SMTP port"), _("Empty: 465 with ssl, 587 with starttls."), kind=FieldKind.INTEGER
        ),
        CredentialField(
            "smtp_security",
            _("SMTP security"),
            _("starttls (default), ssl, or none (only on a trusted network)."),
            kind=FieldKind.CHOICE,
            choices=("starttls", "ssl", "none"),
        ),
        CredentialField("smtp_username", _("SMTP login"), _("Empty: the IMAP login.")),
        CredentialField(
            "smtp_password", _("SMTP password"), _("Empty: the IMAP password."), kind=FieldKind.SECRET
        ),
    )

    # --- IMAP -----------------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        found = []
        for protocol in ("imap", "smtp"):
            host = str(credentials.get(f"{protocol}_host") or "").strip()
            if host:
                port = credentials.get(f"{protocol}_port")
                found.append(("credentials", f"{protocol}://{host}" + (f":{port}" if port else "")))
        return found

    def _checked(self, host: str, port: int) -> None:
        """A server inside the install is refused for good here; the clients below then connect
        to a checked address themselves (`_pinned_socket`)."""
        try:
            outbound.resolve(host, port)
        except outbound.AddressRefused as error:
            raise PermanentError(str(error)) from error
        except httpx.ConnectError as error:  # the name does not resolve, for now
            raise TransientError(f"{host}:{port}: {error}") from error

    def imap(self, channel) -> imaplib.IMAP4:
        credentials = channel.read_credentials()
        host = credentials.get("imap_host")
        if not host or not credentials.get("username"):
            raise TokenExpired("The channel has no IMAP server or login.")
        security = credentials.get("imap_security", "ssl")
        port = int(credentials.get("imap_port") or (993 if security == "ssl" else 143))
        self._checked(host, port)
        try:
            if security == "ssl":
                client = _PinnedIMAP4SSL(
                    host, port, ssl_context=ssl.create_default_context(), timeout=_timeout()
                )
            else:
                client = _PinnedIMAP4(host, port, timeout=_timeout())
                if security == "starttls":
                    client.starttls(ssl.create_default_context())
        except (OSError, imaplib.IMAP4.error) as error:
            raise TransientError(f"IMAP {host}:{port}: {error}") from error
        try:
            client.login(credentials["username"], credentials.get("password", ""))
        except imaplib.IMAP4.abort as error:
            raise TransientError(f"IMAP login: {error}") from error
        except imaplib.IMAP4.error as error:
            raise TokenExpired(f"IMAP login refused: {error}") from error
        return client

    def pull(self, channel, cursor: str) -> PullResult:
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        mailbox = channel.read_credentials().get("mailbox") or "INBOX"
        client = self.imap(channel)
        try:
            status, data = client.select(f'"{mailbox}"', readonly=True)
            if status != "OK":
                raise PermanentError(f"IMAP: no mailbox {mailbox}")
            validity = _response_value(client, "UIDVALIDITY")
            last = int(state.get("last_uid", 0)) if state.get("uidvalidity") == validity else 0
            status, found = client.uid("SEARCH", None, f"UID {last + 1}:*")
            if status != "OK":
                raise MalformedPayload(f"IMAP search failed: {found!r}")
            uids = sorted(int(u) for u in (found[0] or b"").split() if int(u) > last)[:MAX_PER_PULL]
            items = []
            skipped = list(state.get("skipped", []))
            for uid in uids:
                raw = self._fetch(client, uid)
                if raw is not None:
                    try:
                        items.append(self.parse_message(raw, uid=uid, validity=validity, channel=channel))
                    except MalformedPayload:
                        # One unreadable message must not block the mailbox: it stays on the server,
                        # its UID is noted in the cursor, and the others come in.
                        logger.warning("email: message %s of channel %s is unreadable", uid, channel.pk)
                        skipped.append(uid)
                last = max(last, uid)
        except (OSError, imaplib.IMAP4.abort) as error:
            raise TransientError(f"IMAP: {error}") from error
        except imaplib.IMAP4.error as error:
            raise MalformedPayload(f"IMAP: {error}") from error
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
        cursor = {"uidvalidity": validity, "last_uid": last, "skipped": skipped[-100:]}
        return PullResult(items=items, cursor=json.dumps(cursor))

    def _fetch(self, client: imaplib.IMAP4, uid: int) -> bytes | None:
        # At most one byte more than is kept: that byte tells a message too large, never read whole.
        status, data = client.uid("FETCH", str(uid), f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES + 1}>)")
        if status != "OK":
            raise MalformedPayload(f"IMAP fetch of {uid} failed")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                if len(part[1]) > MAX_MESSAGE_BYTES:
                    return None
                return part[1]
        return None  # deleted meanwhile

    def parse_message(self, raw: bytes, *, uid: int, validity: str, channel) -> IncomingItem:
        message = message_from_bytes(raw, policy=default_policy)
        if not message.keys():
            raise MalformedPayload(f"Message {uid} has no headers.")
        if not message.get("From") and not message.get("Message-ID"):
            raise MalformedPayload(f"Message {uid} has neither a sender nor a Message-ID.")
        senders = getaddresses([str(message.get("From", ""))])
        name, address = senders[0] if senders else ("", "")
        try:
            created_at = parsedate_to_datetime(str(message.get("Date")))
            if created_at.tzinfo is None:
                created_at = created_at.replace(tzinfo=UTC)
        except (TypeError, ValueError):
            created_at = datetime.now(UTC)
        references = references_of(message)
        parent = message_id(str(message.get("In-Reply-To", ""))) or (references[-1] if references else "")
        subject = str(message.get("Subject", ""))
        own_id = message_id(str(message.get("Message-ID", "")))
        return IncomingItem(
            external_id=own_id or f"imap:{validity}:{uid}",
            kind="direct_message",
            text=body_text(message) or subject,
            created_at=created_at,
            author=IncomingAuthor(handle=address.lower(), display_name=name or address)
            if "@" in address
            else None,
            parent_external_id=parent if parent != own_id else "",
            raw={
                "subject": subject,
                "from": str(message.get("From", "")),
                "to": str(message.get("To", "")),
                "message_id": own_id,
                "references": references,
                "uid": uid,
            },
        )

    # --- SMTP -----------------------------------------------------------------------------------

    def build_reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> EmailMessage:
        raw = in_reply_to.raw or {}
        to = in_reply_to.author.handle if in_reply_to.author else ""
        if "@" not in to:
            raise PermanentError("The message to answer has no sender address.")
        subject = str(raw.get("subject") or "")
        domain = channel.handle.rsplit("@", 1)[-1] or "palabre.invalid"
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        reply = EmailMessage()
        reply["From"] = f"{channel.name} <{channel.handle}>" if channel.name else channel.handle
        reply["To"] = to
        reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()
        reply["Date"] = format_datetime(datetime.now(UTC))
        # The same key gives the same Message-ID: a duplicate would be recognised as one.
        reply["Message-ID"] = f"<palabre.{digest}@{domain}>"
        parent = message_id(raw.get("message_id") or in_reply_to.external_id)
        reply["In-Reply-To"] = f"<{parent}>"
        references = [*(raw.get("references") or []), parent]
        reply["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(references) if r)
        reply.set_content(text)
        return reply

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        message = self.build_reply(
            channel, in_reply_to=in_reply_to, text=text, idempotency_key=idempotency_key
        )
        host, port, security, username, password = _smtp_settings(channel.read_credentials())
        if not host:
            raise TokenExpired("The channel has no SMTP server.")
        self._checked(host, port)
        sent_data = False
        try:
            with _smtp_session(host, port, security, username, password) as smtp:
                sent_data = True
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            raise TokenExpired(f"SMTP login refused: {error.smtp_code} {error.smtp_error!r}") from error
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentError(f"SMTP refused the recipient: {error.recipients}") from error
        except smtplib.SMTPResponseException as error:
            if 400 <= error.smtp_code < 500:
                raise TransientError(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from error
            raise PermanentError(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from error
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as error:
            # Cut off while sending the message: it may have been accepted.
            raise TransientError(f"SMTP: {error}", maybe_delivered=sent_data) from error
        if refused:
            raise PermanentError(f"SMTP refused: {refused}")
        return Delivered(external_id=message_id(message["Message-ID"]))

    def health(self, channel) -> ChannelHealthInfo:
        """Logs in to IMAP (reading) and to SMTP (replying; nothing is sent), so wrong SMTP
        credentials show when the channel is connected, not at its first reply."""
        client = self.imap(channel)
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
        account = channel.read_credentials().get("username", "")
        if not self.check_smtp(channel):
            # Reading works; replying was not tried: there is nothing to send with.
            return ChannelHealthInfo(
                account=account,
                permissions_checked="partial",
                permissions_note="No SMTP server in the credentials: the channel reads mail but cannot send replies.",
            )
        return ChannelHealthInfo(account=account, permissions_checked="verified")

    def check_smtp(self, channel) -> bool:
        """Log in to SMTP (nothing sent); False for a channel without an SMTP server (it only reads)."""
        host, port, security, username, password = _smtp_settings(channel.read_credentials())
        if not host:
            return False
        self._checked(host, port)
        try:
            with _smtp_session(host, port, security, username, password):
                pass  # logged in: nothing is sent
        except smtplib.SMTPAuthenticationError as error:
            raise TokenExpired(f"SMTP login refused: {error.smtp_code} {error.smtp_error!r}") from error
        except smtplib.SMTPResponseException as error:
            if 400 <= error.smtp_code < 500:
                raise TransientError(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from error
            raise PermanentError(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise TransientError(f"SMTP {host}:{port}: {network_reason(error)}") from error
        return True


def _smtp_session(host: str, port: int, security: str, username: str, password: str) -> smtplib.SMTP:
    """An SMTP connection pinned to the checked address, with TLS as asked and logged in; used as a
    context manager (it says QUIT on leaving)."""
    if security == "ssl":
        smtp = _PinnedSMTPSSL(host, port, timeout=_timeout(), context=ssl.create_default_context())
    else:
        smtp = _PinnedSMTP(host, port, timeout=_timeout())
    try:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if username:
            smtp.login(username, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _smtp_settings(credentials) -> tuple[str, int, str, str, str]:
    """(host, port, security, login, password) of the channel's SMTP server ("" host: none)."""
    host = str(credentials.get("smtp_host") or "")
    security = credentials.get("smtp_security", "starttls")
    port = int(credentials.get("smtp_port") or {"ssl": 465, "starttls": 587}.get(security, 25))
    username = credentials.get("smtp_username") or credentials.get("username") or ""
    password = credentials.get("smtp_password") or credentials.get("password", "")
    return host, port, security, username, password


def _response_value(client: imaplib.IMAP4, name: str) -> str:
    typ, data = client.response(name)
    value = data[0] if data and data[0] is not None else b""
    return value.decode() if isinstance(value, bytes) else str(value)
