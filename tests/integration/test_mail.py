"""`certmint mail test`: outgoing mail composed by certmint and delivered to a real SMTP server
(Debian's aiosmtpd, Mailbox handler) or into the spool directory, then read back with Python's
email module (headers, envelope, text and HTML parts, attachment bytes). Also: the server down
or silent (mail_delivery_failed within the 30 s timeout), a server that rejects the recipient
(the SMTP reply is reported), header injection through --to (mail_invalid, nothing sent or
spooled), a bad sender and usage errors."""

import email
import email.policy
import email.utils
import os
import re
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import certmint, error_codes

SUBJECT = "certmint test message ✓"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"SMTP server exited early: {proc.stderr.read()!r}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"SMTP server did not listen on port {port}")


class Smtpd:
    """A real SMTP server on 127.0.0.1:port, started with /usr/bin/python3 -m aiosmtpd."""

    def __init__(self, tmp: Path, handler="aiosmtpd.handlers.Mailbox", env=None):
        self.port = free_port()
        self.maildir = tmp / f"maildir-{self.port}"  # must not exist: the handler makes it
        assert not self.maildir.exists()
        args = [str(self.maildir)] if handler.endswith("Mailbox") else []
        self.url = f"smtp://127.0.0.1:{self.port}"
        full_env = dict(os.environ, **(env or {}))
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}", "-c",
             handler, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=full_env)
        wait_listening(self.port, self.proc)

    def messages(self):
        new = self.maildir / "new"
        return sorted(new.iterdir()) if new.exists() else []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def smtpd(tmp_path):
    s = Smtpd(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def datadir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


def only_error(r, code: str):
    """The run failed with exit 1 and printed exactly one `certmint: CODE: message` line (and
    nothing else, such as a sanitizer report)."""
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert error_codes(r.stderr) == [code], r.stderr


def mail_test(datadir, *extra, timeout=120):
    return certmint("mail", "test", "--dir", datadir, *extra, timeout=timeout)


def check_message(raw: bytes, *, sender: str, to: str, crlf: bool):
    """Parses one composed message and checks every part of it. `crlf`: the bytes are as
    certmint wrote them (the spool), so every line must end in CRLF; the Mailbox handler
    stores received mail with LF line ends instead."""
    if crlf:
        assert raw.endswith(b"\r\n")
        assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert all(b < 0x80 for b in raw), "the message must be 7-bit (QP/base64 bodies)"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == sender
    assert msg["To"] == to
    assert msg["Subject"] == SUBJECT
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_all("Bcc") is None and msg.get_all("Cc") is None
    assert re.fullmatch(r"<[0-9a-f]{32}\.\d+@" + re.escape(sender.split("@")[1]) + ">",
                        msg["Message-ID"])
    sent = email.utils.parsedate_to_datetime(msg["Date"]).timestamp()
    assert abs(sent - time.time()) < 300
    assert msg.get_content_type() == "multipart/mixed"
    assert not msg.defects, msg.defects

    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8"
    t = text.get_content()
    assert "This is a test message from certmint" in t
    assert f"from {sender} to {to}" in t.replace("\n", " ")
    assert "Grüße — certmint" in t
    h = html.get_content()
    assert "<b>test message</b>" in h and "Grüße — certmint" in h
    for part in msg.walk():
        assert not part.defects, (part.get_content_type(), part.defects)

    atts = list(msg.iter_attachments())
    assert len(atts) == 1
    att = atts[0]
    assert att.get_filename() == "certmint-test.txt"
    assert att.get_content_type() == "text/plain"
    assert att["Content-Transfer-Encoding"] == "base64"
    data = att.get_payload(decode=True)
    assert re.fullmatch(rb"certmint mail test \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", data), data
    return msg


def test_mail_test_delivers_over_smtp(datadir, smtpd):
    r = mail_test(datadir, "--to", "ops@example.com", "--smtp_url", smtpd.url, "--mail_from",
                  "ca@pki.example.org")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"sent to {smtpd.url}/"
    msgs = smtpd.messages()
    assert len(msgs) == 1
    msg = check_message(msgs[0].read_bytes(), sender="ca@pki.example.org", to="ops@example.com",
                        crlf=False)
    # The Mailbox handler records the SMTP envelope.
    assert msg["X-MailFrom"] == "ca@pki.example.org"
    assert msg["X-RcptTo"] == "ops@example.com"
    assert not (datadir / "spool").exists()


def test_mail_settings_come_from_certmint_conf(datadir, smtpd):
    (datadir / "certmint.conf").write_text(
        f"smtp_url = smtp://mailer:s3cret@127.0.0.1:{smtpd.port}\nmail_from = noc@example.net\n")
    r = mail_test(datadir, "--to", "admin@example.org")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"sent to {smtpd.url}/"  # no user name or password shown
    assert "s3cret" not in r.stdout + r.stderr
    msgs = smtpd.messages()
    assert len(msgs) == 1
    check_message(msgs[0].read_bytes(), sender="noc@example.net", to="admin@example.org",
                  crlf=False)


def test_mail_test_spools_when_no_smtp_url(datadir):
    r = mail_test(datadir, "--to", "ops@example.com")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"written to (.+\.eml)", r.stdout.strip())
    assert m, r.stdout
    path = Path(m.group(1))
    assert path.parent == datadir / "spool" / "mail"
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{16}\.eml", path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    check_message(path.read_bytes(), sender="certmint@localhost", to="ops@example.com",
                  crlf=True)

    r2 = mail_test(datadir, "--to", "other@example.com")  # a second one: a new file
    assert r2.returncode == 0, r2.stderr
    assert len(list(path.parent.iterdir())) == 2


def test_server_down_is_mail_delivery_failed(datadir):
    url = f"smtp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    r = mail_test(datadir, "--to", "ops@example.com", "--smtp_url", url, timeout=60)
    elapsed = time.monotonic() - started
    only_error(r, "mail_delivery_failed")
    assert "ops@example.com" in r.stderr and url in r.stderr
    assert "connect" in r.stderr.lower()
    assert r.stdout == ""
    assert elapsed < 30
    assert not (datadir / "spool").exists()  # never falls back to the spool silently


def test_silent_server_times_out_after_30_seconds(datadir):
    # Accepts TCP connections (kernel backlog) but never sends the SMTP greeting.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        url = f"smtp://127.0.0.1:{s.getsockname()[1]}"
        started = time.monotonic()
        r = mail_test(datadir, "--to", "ops@example.com", "--smtp_url", url, timeout=90)
        elapsed = time.monotonic() - started
    only_error(r, "mail_delivery_failed")
    assert "timed out" in r.stderr.lower() or "timeout" in r.stderr.lower()
    assert 25 <= elapsed < 45, elapsed


REJECT_HANDLER = '''
class RejectRcpt:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 <%s>: mailbox unavailable" % address
'''


def test_rejected_recipient_reports_smtp_reply(datadir, tmp_path):
    (tmp_path / "rejecthandler.py").write_text(REJECT_HANDLER)
    s = Smtpd(tmp_path, handler="rejecthandler.RejectRcpt",
              env={"PYTHONPATH": str(tmp_path)})
    try:
        r = mail_test(datadir, "--to", "nobody@example.com", "--smtp_url", s.url)
    finally:
        s.stop()
    only_error(r, "mail_delivery_failed")
    assert "550" in r.stderr
    assert "nobody@example.com" in r.stderr


@pytest.mark.parametrize("bad_to", [
    "a@b\r\nBcc: x@y",
    "a@example.com\nBcc: x@example.net",
    "Ops <ops@example.com>",
    "ops@example.com, x@example.net",
])
def test_bad_to_is_refused_and_nothing_sent_or_spooled(datadir, smtpd, bad_to):
    for extra in (["--smtp_url", smtpd.url], []):
        r = mail_test(datadir, "--to", bad_to, *extra)
        only_error(r, "mail_invalid")  # one line: the CR/LF is not echoed
        assert r.stdout == ""
    assert smtpd.messages() == []
    assert not (datadir / "spool").exists()


def test_bad_sender_is_refused(datadir):
    r = mail_test(datadir, "--to", "ops@example.com", "--mail_from", "certmint")
    only_error(r, "mail_invalid")
    assert "mail_from" in r.stderr
    assert not (datadir / "spool").exists()


@pytest.mark.parametrize("args", [
    ["mail"],
    ["mail", "send"],
    ["mail", "test", "--to", "ops@example.com"],
    ["mail", "test", "--dir", "DATADIR"],
    ["mail", "test", "--dir", "DATADIR", "--to", "ops@example.com", "extra"],
    ["mail", "test", "--dir", "DATADIR", "--to", "ops@example.com", "--bogus"],
])
def test_usage_errors_exit_2(datadir, args):
    r = certmint(*[str(datadir) if a == "DATADIR" else a for a in args])
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert not (datadir / "spool").exists()


def test_help_exits_0():
    r = certmint("mail", "test", "--help")
    assert r.returncode == 0
    assert "certmint mail test" in r.stdout
