"""E-mail over SMTP: one multipart/alternative message (plain text and HTML) to the recipients.

The connection goes through the same egress check as every outbound request (resolved once,
private addresses refused unless the operator allows the host) and then speaks SMTP with
aiosmtplib: implicit TLS, STARTTLS (required, not opportunistic) or, for an allowed relay, none.
Reply codes decide: 4xx and network trouble are retried; a refused login, sender or every
recipient means the channel is misconfigured; a 5xx for the message itself rejects that message.
"""

from __future__ import annotations

import email.utils
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import httpx

from hub.core.egress import EgressPolicy, EgressRefused, open_connection
from notifiers.channels.base import Adapter, SendResult, Target
from notifiers.messages import Message
from notifiers.models import ChannelKind, DeliveryOutcome
from notifiers.ratelimit import Pace, RateLimit
from notifiers.templating import plain, render_message

SECURITY_DEFAULT_PORTS = {"tls": 465, "starttls": 587, "none": 25}


def compose(target: Target, message: Message, now: datetime) -> EmailMessage:
    text = render_message("email_text", message)
    html = render_message("email_html", message)
    config = target.config
    sender = str(config["from_address"])
    mail = EmailMessage()
    mail["Subject"] = plain(text["title"])[:250]
    mail["From"] = email.utils.formataddr((plain(config.get("from_name") or "CaseHub"), sender))
    mail["To"] = ", ".join(config["recipients"])
    mail["Date"] = email.utils.format_datetime(now)
    mail["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["Content-Language"] = message.locale
    mail.set_content(text["body"] + "\n")
    mail.add_alternative(html["body"], subtype="html")
    return mail


def _judge_smtp(exc: aiosmtplib.SMTPException) -> SendResult:
    code = getattr(exc, "code", None)
    text = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        outcome = DeliveryOutcome.channel_error
    elif isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        permanent = codes and all(c >= 500 for c in codes)
        outcome = DeliveryOutcome.channel_error if permanent else DeliveryOutcome.failed
        code = codes[0] if codes else None
    elif isinstance(exc, aiosmtplib.SMTPSenderRefused) and (code or 0) >= 500:
        outcome = DeliveryOutcome.channel_error
    elif isinstance(exc, aiosmtplib.SMTPDataError) and (code or 0) >= 500:
        outcome = DeliveryOutcome.rejected
    else:
        outcome = DeliveryOutcome.failed
    return SendResult(
        outcome,
        status_code=code if isinstance(code, int) else None,
        vendor_code=None if code is None else str(code),
        error=text,
    )


class Email(Adapter):
    kind = ChannelKind.email
    pace = Pace(limits=(RateLimit(30, timedelta(hours=1)),), quiet=3, gap=timedelta(minutes=1))
    """Inboxes are not chat rooms: a busy channel gets a summary at most once a minute."""

    async def send(
        self,
        target: Target,
        message: Message,
        *,
        client: httpx.AsyncClient,
        egress: EgressPolicy,
        now: datetime,
        deadline: float,
    ) -> SendResult:
        config = target.config
        host = str(config["host"])
        security = str(config.get("security", "starttls"))
        port = int(config.get("port") or SECURITY_DEFAULT_PORTS[security])
        mail = compose(target, message, now)
        try:
            sock = await open_connection(egress, host, port, connect_timeout=deadline)
        except EgressRefused as exc:
            return SendResult(DeliveryOutcome.failed, error=f"refused: {exc}"[:500])
        except OSError as exc:
            return SendResult(DeliveryOutcome.failed, error=str(exc)[:500])
        smtp = aiosmtplib.SMTP(
            hostname=host,
            sock=sock,
            timeout=deadline,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            tls_context=ssl.create_default_context(),
        )
        try:
            async with smtp:
                username = config.get("username")
                if username:
                    await smtp.login(str(username), target.secrets.get("password", ""))
                refused, response = await smtp.send_message(mail)
        except aiosmtplib.SMTPException as exc:
            return _judge_smtp(exc)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            return SendResult(DeliveryOutcome.failed, error=f"{type(exc).__name__}: {exc}"[:500])
        finally:
            sock.close()
        detail = response
        if refused:
            detail += "; refused: " + ", ".join(sorted(refused))
        return SendResult(DeliveryOutcome.succeeded, status_code=250, response_body=detail[:2048])
