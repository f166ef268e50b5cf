"""A private Dovecot IMAP server for tests: temporary folder, loopback, no TLS.

    server = DovecotServer(user="relance", password="secret")
    server.start()      # dovecot -F -c <our config>, waits for the port
    server.port         # IMAP on 127.0.0.1
    server.stop()

Mail is kept as maildir under the temporary folder.  Dovecot refuses to give
mail to uid 0, so as root the mail belongs to the ``dovecot`` system user (the
Debian package creates it); as another user, to that user.  Plain-text login is
allowed because nothing leaves loopback.  Needs the Debian package
``dovecot-imapd`` (installed by scripts/setup).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{dir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if not found:
        raise RuntimeError("Dovecot is not installed (apt-get install dovecot-imapd)")
    return found


class DovecotServer:
    def __init__(self, user: str = "relance", password: str = "secret") -> None:
        self.user = user
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix="relance-dovecot-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = dovecot_binary()
        # The dovecot user must reach its files inside our folder.
        self.dir.chmod(0o755)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("dovecot")
            login_user, internal_user = "dovenull", "dovecot"
        else:
            owner = pwd.getpwuid(os.geteuid())
            login_user = internal_user = owner.pw_name
        for sub in ("run", "state", "mail", "home"):
            (self.dir / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(self.dir / sub, owner.pw_uid, owner.pw_gid)
        (self.dir / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        config = self.dir / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                dir=self.dir,
                port=self.port,
                uid=owner.pw_uid,
                gid=owner.pw_gid,
                login_user=login_user,
                internal_user=internal_user,
            )
        )
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into the mailbox the way a mail server would: IMAP APPEND.

        With a socket timeout, and tried again on a new connection when the server
        does not answer in time (a test must fail, not hang, if Dovecot stalls; a
        mail delivered twice is what the product must take anyway)."""
        import imaplib

        for attempt in range(3):
            try:
                client = imaplib.IMAP4("127.0.0.1", self.port, timeout=20)
            except OSError:
                if attempt == 2:
                    raise
                continue
            try:
                client.login(self.user, self.password)
                kind, data = client.append(folder, None, None, raw)
                if kind != "OK":
                    raise RuntimeError(f"APPEND refused: {data!r}")
                return
            except (TimeoutError, OSError):
                if attempt == 2:
                    raise
            finally:
                with contextlib.suppress(OSError, imaplib.IMAP4.error):
                    client.logout()
