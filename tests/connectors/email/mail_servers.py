"""Real mail servers on loopback for the e-mail connector's tests.

- IMAP: a private Dovecot (Debian's dovecot-imapd) with its own configuration, port, users and
  mail folder under a temporary directory; it never touches the system's Dovecot.
- SMTP: aiosmtpd in a thread, requiring a login, keeping what it receives.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# The brand's mailbox on the test IMAP server (tests import it from here: `from conftest import`
# finds whichever folder's conftest came first).
BRAND = "contact@maison-dupont.fr"
BRAND_PASSWORD = "imap-secret-2024"

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
instance_name = palabre-tests-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login is answered at once: Dovecot waits 2 s by default, and its anvil slows down each
# next login from the address (2 s, 4 s...) against guessing.
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ImapServer:
    root: Path
    port: int
    users: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def stop(self) -> None:
        if self.process is not None:
            subprocess.run(
                [DOVECOT, "-c", str(self.root / "dovecot.conf"), "stop"], capture_output=True, timeout=20
            )
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(users: dict[str, str]) -> ImapServer:
    root = Path(tempfile.mkdtemp(prefix="palabre-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    (root / "passwd").write_text(
        "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in users.items())
    )
    if os.geteuid() == 0:
        # Dovecot never serves mail as root: the mail belongs to nobody, its helpers run as its own users.
        mail_user = pwd.getpwnam("nobody")
        internal, login = "dovecot", "dovenull"
        internal_group = "dovecot"
        for path in (root / "mail", root / "home"):
            os.chown(path, mail_user.pw_uid, mail_user.pw_gid)
    else:
        mail_user = pwd.getpwuid(os.getuid())
        internal = login = mail_user.pw_name
        internal_group = mail_user.pw_name
    port = free_port()
    (root / "dovecot.conf").write_text(
        CONFIG.format(
            root=root,
            port=port,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            internal=internal,
            internal_group=internal_group,
            login=login,
        )
    )
    server = ImapServer(root=root, port=port, users=users)
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = server.process.stdout.read().decode(errors="replace")
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            server.stop()
            raise RuntimeError(f"dovecot did not start: {output}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                if connection.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("dovecot did not answer on its port")


@dataclass
class SmtpServer:
    controller: object
    host: str
    port: int
    username: str
    password: str
    received: list = field(default_factory=list)

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(username: str, password: str) -> SmtpServer:
    from email import message_from_bytes
    from email.policy import default

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    received: list = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "message": message_from_bytes(
                        envelope.original_content or envelope.content, policy=default
                    ),
                    "login": session.authenticated,
                }
            )
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == username and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(
        Keep(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    return SmtpServer(controller, "127.0.0.1", port, username, password, received)
