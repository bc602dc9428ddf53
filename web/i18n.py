"""Language choice: Simplified Chinese by default, English on request.

Text is written where it is used as ``tr("中文", "English")`` so each page keeps
its own words; the choice comes from the logged-in user (persisted per user) or,
before login, from the session.
"""
from __future__ import annotations

from flask import has_request_context, session
from flask_login import current_user

from models.vocab import LEVEL_WORDS, ROLE_WORDS, Words, words

LANGUAGES = ("zh", "en")


def language() -> str:
    if not has_request_context():
        return "zh"
    if getattr(current_user, "is_authenticated", False):
        return current_user.language
    lang = session.get("lang", "zh")
    return lang if lang in LANGUAGES else "zh"


def tr(zh: str, en: str) -> str:
    return en if language() == "en" else zh


def plotly_locale() -> str:
    return "en" if language() == "en" else "zh-CN"


LEVEL_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#f2c500", "green": "#2ca02c", "none": "#b0b0b0"}


def label(table: dict[str, Words], code: str | None) -> str:
    """A code's word in the user's language, from one of the tables in ``models.vocab``."""
    return tr(*words(table, code))


def role_name(role: str) -> str:
    return label(ROLE_WORDS, role)


def level_name(level: str) -> str:
    return label(LEVEL_WORDS, level)
