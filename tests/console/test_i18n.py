"""Every message the console shows has a zh-CN translation, and the catalogue has no leftovers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from hub.console import nav
from hub.console.i18n import LABELS, Translator, catalogue, negotiate
from hub.console.pages import TITLES
from tenants.models import Locale

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(["'])(.+?)\1\s*\)""")


def _python_messages(path: Path) -> set[str]:
    """Literal first arguments of ``t(...)``, ``console.t(...)`` and ``t.gettext(...)`` calls."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("t", "gettext") and isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            if isinstance(value, str):
                found.add(value)
    return found


def used_messages() -> set[str]:
    messages: set[str] = set()
    for template in (ROOT / "templates").rglob("*.html"):
        messages |= {m[1] for m in TEMPLATE_CALL.findall(template.read_text(encoding="utf-8"))}
    for module in (ROOT / "hub" / "console").rglob("*.py"):
        messages |= _python_messages(module)
    messages |= {item.label for item in nav.MAIN + nav.SETTINGS}
    messages |= set(LABELS.values()) | set(TITLES.values())
    return messages


def test_every_message_has_a_chinese_translation() -> None:
    zh = catalogue(Locale.zh_cn)
    missing = sorted(used_messages() - set(zh))
    assert not missing, f"add to hub/console/locales/zh-CN.json: {missing}"


def test_the_catalogue_has_no_unused_messages() -> None:
    unused = sorted(set(catalogue(Locale.zh_cn)) - used_messages())
    assert not unused, f"remove from hub/console/locales/zh-CN.json: {unused}"


def test_translations_keep_their_placeholders() -> None:
    placeholder = re.compile(r"%\(\w+\)s")
    for english, chinese in catalogue(Locale.zh_cn).items():
        assert sorted(placeholder.findall(english)) == sorted(placeholder.findall(chinese)), english


def test_negotiation() -> None:
    assert negotiate(None, "zh-CN,zh;q=0.9,en;q=0.8") == Locale.zh_cn
    assert negotiate(None, "en-GB,zh;q=0.5") == Locale.en
    assert negotiate(None, "fr-FR, zh-TW;q=0.7") == Locale.zh_cn
    assert negotiate(None, "fr-FR") == Locale.en
    assert negotiate(None, "zh;q=0, en;q=0.1") == Locale.en
    assert negotiate(Locale.zh_cn, "en") == Locale.zh_cn
    assert negotiate(None, None) == Locale.en


def test_unknown_labels_fall_back_to_english() -> None:
    t = Translator(Locale.zh_cn)
    assert t.label("in_progress") == "处理中"
    assert t.label("some.future_event") == "some.future_event"
