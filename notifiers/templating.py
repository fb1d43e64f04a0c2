"""Jinja2 environments per markup flavour, with escaping that a template cannot forget.

Every IM vendor speaks its own markup, so HTML autoescaping covers only e-mail. For the other
flavours each environment's ``finalize`` escapes every ``{{ value }}`` for that flavour unless the
value is :class:`Trusted` (markup the helpers below built from escaped parts). User text can
therefore never become a link, a mention, a heading or a tag, whichever template prints it:

- DingTalk and WeCom markdown: the characters that make markdown or their tags (``[ ] < > * _ ~
  ` # |``) become their full-width forms, which every renderer shows as text and read naturally
  in Chinese. (Their markdown subsets document no backslash escapes, so those cannot be relied
  on.) Line breaks inside a value become spaces.
- Slack mrkdwn: ``& < >`` as ``&amp; &lt; &gt;`` (Slack's own rule), so no ``<!channel>`` or link.
- Feishu post: values are plain text elements; links are built by :func:`feishu_elements` from
  control-character sentinels that the escaper strips from user text, so they cannot be forged.
- E-mail: HTML autoescaping; the text part is plain.

Phrases come from the catalogs ``templates/notifiers/locale/<locale>.toml``; :func:`translator`
formats them with escaped arguments.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "notifiers"
LOCALES = ("zh-CN", "en")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_MARKDOWN_SPECIAL = "[]<>*_~`#|\\"
_MARKDOWN = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in _MARKDOWN_SPECIAL})
"""Each markdown-special ASCII character to its full-width form (U+FF01…U+FF5E)."""

LINK_START, LINK_SEP, LINK_END = "\x02", "\x1f", "\x03"


class Trusted(str):
    """Markup a helper built from escaped parts; ``finalize`` prints it as it is."""

    __slots__ = ()


def plain(text: object) -> str:
    """One line of plain text: no control characters, line breaks folded into spaces."""
    return _BREAKS.sub(" ", _CONTROL.sub("", str(text))).strip()


def _lines(text: object) -> list[str]:
    raw = _CONTROL.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    return [line.strip() for line in raw.split("\n") if line.strip()]


def escape_markdown(text: object) -> str:
    return plain(text).translate(_MARKDOWN)


def escape_slack(text: object) -> str:
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str) -> str:
    """A URL with every character that could end a markup link percent-encoded."""
    return quote(url, safe=":/?&=%#@+,;~-._!$'*")


@dataclass(frozen=True)
class Flavour:
    """How one markup flavour escapes text and writes links, emphasis and quotes."""

    name: str
    template: str
    escape: Callable[[object], str]
    link: Callable[[str, str], str]
    bold: Callable[[str], str]
    quote: Callable[[object], str]
    html: bool = False


def _markdown_quote(text: object) -> str:
    return Trusted("\n".join(f"> {escape_markdown(line)}" for line in _lines(text)))


def _slack_quote(text: object) -> str:
    return Trusted("\n".join(f"> {escape_slack(line)}" for line in _lines(text)))


def _plain_quote(text: object) -> str:
    return Trusted("\n".join(f"  {plain(line)}" for line in _lines(text)))


def _html_quote(text: object) -> str:
    return Markup("<blockquote>{}</blockquote>").format(
        Markup("<br>").join(escape(line) for line in _lines(text))
    )


def _markdown_flavour(name: str) -> Flavour:
    return Flavour(
        name=name,
        template="markdown.md",
        escape=escape_markdown,
        link=lambda url, label: Trusted(f"[{escape_markdown(label)}]({safe_url(url)})"),
        bold=lambda text: Trusted(f"**{escape_markdown(text)}**"),
        quote=_markdown_quote,
    )


FLAVOURS: dict[str, Flavour] = {
    "dingtalk": _markdown_flavour("dingtalk"),
    "wecom": _markdown_flavour("wecom"),
    "feishu": Flavour(
        name="feishu",
        template="feishu.txt",
        escape=plain,
        link=lambda url, label: Trusted(f"{LINK_START}{url}{LINK_SEP}{plain(label)}{LINK_END}"),
        bold=lambda text: Trusted(plain(text)),
        quote=_plain_quote,
    ),
    "slack": Flavour(
        name="slack",
        template="slack.mrkdwn",
        escape=escape_slack,
        link=lambda url, label: Trusted(
            f"<{safe_url(url).replace('|', '%7C')}|{escape_slack(label).replace('|', '¦')}>"
        ),
        bold=lambda text: Trusted("*" + escape_slack(text).replace("*", "\u2217") + "*"),
        quote=_slack_quote,
    ),
    "email_text": Flavour(
        name="email_text",
        template="email.txt",
        escape=plain,
        link=lambda url, label: Trusted(f"{plain(label)}: {url}"),
        bold=lambda text: Trusted(plain(text)),
        quote=_plain_quote,
    ),
    "email_html": Flavour(
        name="email_html",
        template="email.html",
        escape=lambda text: str(escape(text)),
        link=lambda url, label: Markup('<a href="{}">{}</a>').format(url, label),
        bold=lambda text: Markup("<strong>{}</strong>").format(text),
        quote=_html_quote,
        html=True,
    ),
}


def _finalize_for(flavour: Flavour) -> Callable[[Any], Any]:
    def finalize(value: Any) -> Any:
        if value is None:
            return ""
        if flavour.html or isinstance(value, Trusted):
            return value
        return flavour.escape(value)

    return finalize


@cache
def environment(flavour_name: str) -> Environment:
    flavour = FLAVOURS[flavour_name]
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=flavour.html,  # noqa: S701 (the other flavours escape through finalize)
        finalize=_finalize_for(flavour),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["quote"] = flavour.quote
    env.filters["bold"] = flavour.bold
    env.globals["link"] = flavour.link
    return env


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, Any]) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not {"one", "other"} >= set(value):
            _flatten(f"{name}.", value, out)
        else:
            out[name] = value


@cache
def catalog(locale: str) -> dict[str, Any]:
    """The phrases of ``locale`` (``zh-CN`` or ``en``), keyed by dotted names."""
    with (TEMPLATES_DIR / "locale" / f"{locale}.toml").open("rb") as handle:
        flat: dict[str, Any] = {}
        _flatten("", tomllib.load(handle), flat)
        return flat


def translator(locale: str, flavour: Flavour) -> Callable[..., str]:
    """``t(key, **args)``: the phrase for ``key`` with its arguments escaped for ``flavour``.

    A phrase given as ``{one = …, other = …}`` picks its form by ``n``. An unknown key falls
    back to English, then to ``fallback`` (or the key itself).
    """
    phrases, english = catalog(locale), catalog("en")

    def t(key: str, fallback: str | None = None, **args: Any) -> str:
        phrase = phrases.get(key, english.get(key))
        if phrase is None:
            return _escaped_arg(key if fallback is None else fallback, flavour, trust=True)
        if isinstance(phrase, dict):
            phrase = phrase["one"] if args.get("n") == 1 and "one" in phrase else phrase["other"]
        escaped = {name: _escaped_arg(value, flavour) for name, value in args.items()}
        text = str(phrase).format(**escaped)
        return Markup(text) if flavour.html else Trusted(text)  # noqa: S704 (args escaped)

    return t


def _escaped_arg(value: Any, flavour: Flavour, *, trust: bool = False) -> str:
    if isinstance(value, Trusted | Markup | int | float):
        text = str(value)
    else:
        text = flavour.escape(value)
    if not trust:
        return text
    return Markup(text) if flavour.html else Trusted(text)  # noqa: S704 (escaped above)


def render_message(flavour_name: str, message: Any) -> dict[str, str]:
    """Render a :class:`notifiers.messages.Message` in ``flavour_name``: its blocks by name."""
    flavour = FLAVOURS[flavour_name]
    t = translator(message.locale, flavour)
    parts = [str(t(f"count.{category}", n=n)) for category, n in message.counts]
    joined = str(t("sep")).join(parts)
    summary = Markup(joined) if flavour.html else Trusted(joined)  # noqa: S704 (phrases)
    return render_blocks(flavour_name, {"message": message, "t": t, "summary": summary})


def render_blocks(flavour_name: str, context: Mapping[str, Any]) -> dict[str, str]:
    """Render every block of the flavour's template (``title``, ``body`` …) with ``context``."""
    env = environment(flavour_name)
    template = env.get_template(FLAVOURS[flavour_name].template)
    ctx = template.new_context(dict(context))
    return {name: "".join(block(ctx)).strip() for name, block in template.blocks.items()}


def feishu_elements(line: str) -> Iterator[dict[str, str]]:
    """One rendered Feishu line as post elements: text, and links from their sentinels."""
    pattern = re.compile(
        f"{LINK_START}([^{LINK_SEP}{LINK_END}]*){LINK_SEP}([^{LINK_END}]*){LINK_END}"
    )
    position = 0
    for match in pattern.finditer(line):
        if match.start() > position:
            yield {"tag": "text", "text": line[position : match.start()]}
        yield {"tag": "a", "text": match.group(2), "href": match.group(1)}
        position = match.end()
    if position < len(line):
        yield {"tag": "text", "text": line[position:]}
