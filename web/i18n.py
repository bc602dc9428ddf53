"""Language choice: Simplified Chinese by default, English on request.

Text is written where it is used as ``tr("中文", "English")`` so each page keeps
its own words; the choice comes from the logged-in user (persisted per user) or,
before login, from the session.
"""
from __future__ import annotations

from flask import has_request_context, session
from flask_login import current_user

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


ROLE_NAMES = {
    "officer": ("民警", "Officer"),
    "manager": ("健康管理师", "Health manager"),
    "leader": ("领导", "Leader"),
    "admin": ("系统管理员", "Administrator"),
}

LEVEL_NAMES = {
    "red": ("红色", "Red"),
    "orange": ("橙色", "Orange"),
    "yellow": ("黄色", "Yellow"),
    "green": ("绿色", "Green"),
}

LEVEL_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#f2c500", "green": "#2ca02c", "none": "#b0b0b0"}


def role_name(role: str) -> str:
    return tr(*ROLE_NAMES.get(role, (role, role)))


def level_name(level: str) -> str:
    return tr(*LEVEL_NAMES.get(level, (level, level)))
