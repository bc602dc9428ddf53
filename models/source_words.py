"""Reading sources in English (issue 21): the snapshot stores a reason's source as the Chinese label a
manager recognises ("南江市第一人民医院 体检", "冲桥派出所健康小屋", ``models.snapshot.source_label``), and
the ECG and finding reasons name it inside their English text too. The English screens read it here:
a kiosk by its station's English name, the source words of ``vocab.SOURCES`` in English; a hospital has
no English name on record, so its name stays and only the word is translated."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import vocab
from models.schema import Hospital, Unit

# a rule's own source word (``source_zh`` of the rules file: the yellow-count rule)
RULE_SOURCES = {"多项指标综合": "several measures combined"}
FIXED = {**{zh: en for zh, en in vocab.SOURCES.values()}, **RULE_SOURCES}  # words with no name in them
CHINA_PAR = "China-PAR: "
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


def english_names(session: Session) -> dict[str, str]:
    """Chinese source label -> its English, for every hospital, station kiosk and source word."""
    names = dict(FIXED)
    exam_zh, exam_en = vocab.SOURCES["exam"]
    kiosk_zh, kiosk_en = vocab.SOURCES["kiosk"]
    for (name,) in session.execute(select(Hospital.name)):
        names[f"{name} {exam_zh}"] = f"{name} {exam_en.lower()}"
    for name, name_en in session.execute(select(Unit.name, Unit.name_en)):
        if name_en:
            names[f"{name}{kiosk_zh}"] = f"{name_en} health {kiosk_en.lower()}"
    return names


def english_source(source: str | None, names: dict[str, str]) -> str:
    """A source label in English where its names exist (joined and China-PAR labels part by part)."""
    if not source or not _NOT_ASCII.search(source):
        return source or ""
    if source in names:
        return names[source]
    if source in FIXED:
        return FIXED[source]
    if source.startswith(CHINA_PAR):
        return CHINA_PAR + english_source(source[len(CHINA_PAR):], names)
    if "; " in source:
        return "; ".join(english_source(p, names) for p in source.split("; "))
    kiosk_zh, kiosk_en = vocab.SOURCES["kiosk"]
    if source.startswith(kiosk_zh + " "):  # a kiosk whose station is unknown: "健康小屋 K0012"
        return f"{kiosk_en} {source[len(kiosk_zh) + 1:]}"
    return source


def english_reason(reason: dict, names: dict[str, str]) -> dict:
    """The reason with its English text naming the source in English, and ``source_en``."""
    source = reason.get("source") or ""
    en_source = english_source(source, names)
    text_en = reason.get("text_en") or ""
    if source and en_source != source and source in text_en:
        text_en = text_en.replace(source, en_source)
    return {**reason, "text_en": text_en, "source_en": en_source}
