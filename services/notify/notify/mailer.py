"""Sending email through an SMTP relay (smtplib): one connection reused for a batch.

What the relay answers decides the status: accepted → delivered; a 5xx reply → permanent failure
(with the reply); a 4xx reply → temporary failure; no connection, or a connection lost →
`RelayUnavailable`, and the batch stops (what was not tried stays due).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from types import TracebackType
from urllib.parse import unquote, urlsplit


class RelayUnavailable(Exception):
    """The relay could not be reached or dropped the connection: try again later."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    media_type: str = "application/pdf"


@dataclass(frozen=True)
class Email:
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str
    # Derived from the notification id, so a second send of one notification has the same id.
    message_id: str
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    permanent: bool = False
    smtp_code: int | None = None
    reply: str = ""


def _reply(code: int, message: bytes | str) -> Outcome:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return Outcome(delivered=False, permanent=code >= 500, smtp_code=code, reply=f"{code} {text}".strip())


class Mailer:
    """Builds messages and opens sessions to the relay `SMTP_URL` names."""

    def __init__(self, smtp_url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(smtp_url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.sender_name, self.sender_address = parseaddr(sender)
        self.domain = self.sender_address.rpartition("@")[2] or "motcua.local"

    def message_id(self, notification_id: str) -> str:
        return f"<{notification_id}@{self.domain}>"

    def build(self, email: Email) -> Message:
        """multipart/alternative (plain text, then HTML), inside multipart/mixed with attachments.

        Built with the `email.mime` classes: their `Header` encodes spaces inside the encoded
        words, where the newer API's folding drops the space at a boundary ("kết quả" read as
        "kếtquả" by mail clients)."""
        body = MIMEMultipart("alternative")
        body.attach(MIMEText(email.text, "plain", "utf-8"))
        body.attach(MIMEText(email.html, "html", "utf-8"))
        message: Message = body
        if email.attachments:
            message = MIMEMultipart("mixed")
            message.attach(body)
            for attachment in email.attachments:
                _maintype, _, subtype = attachment.media_type.partition("/")
                part = MIMEApplication(attachment.content, _subtype=subtype or "octet-stream")
                part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
                message.attach(part)
        message["From"] = formataddr((self.sender_name, self.sender_address), charset="utf-8")
        message["To"] = formataddr((email.to_name, email.to_address), charset="utf-8")
        message["Subject"] = Header(email.subject, "utf-8")
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = email.message_id
        return message

    def session(self) -> MailSession:
        return MailSession(self)

    def connect(self) -> smtplib.SMTP:
        try:
            if self.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.username:
                smtp.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise RelayUnavailable(f"cannot connect to the relay: {type(exc).__name__}") from exc
        return smtp


class MailSession:
    """One connection for a batch, opened at the first message and closed at the end."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def open(self) -> None:
        """Connect now (RelayUnavailable if the relay cannot be reached), not at the first message."""
        if self.smtp is None:
            self.smtp = self.mailer.connect()

    def send(self, email: Email) -> Outcome:
        self.open()
        message = self.mailer.build(email)
        try:
            refused = self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return _reply(code, reply)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return _reply(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the relay is closing the connection
                self.smtp = None
                raise RelayUnavailable("the relay is closing the connection (421)") from exc
            return _reply(exc.smtp_code, exc.smtp_error)
        except OSError as exc:  # smtplib's errors are OSErrors: a lost connection, a timeout
            self.smtp = None
            raise RelayUnavailable(f"the relay dropped the connection: {type(exc).__name__}") from exc
        if refused:
            code, reply = next(iter(refused.values()))
            return _reply(code, reply)
        return Outcome(delivered=True, smtp_code=250)
