"""Issue 21: reason texts in the English UI name their sources in English where English names exist."""
import re

from sqlalchemy import select

from models.db import session_scope
from models.schema import Hospital, OfficerStatus, Unit
from models.source_words import english_names, english_reason, english_source

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def test_src001_every_reason_of_the_demo_reads_in_english_but_for_hospital_names(demo_url):
    with session_scope(demo_url) as s:
        names = english_names(s)
        hospitals = list(s.scalars(select(Hospital.name)))
        reasons = [r for rs in s.scalars(select(OfficerStatus.reasons)) for r in rs or []]
    with_source = [r for r in reasons if r.get("source") and CJK.search(r["source"])]
    assert with_source
    for r in reasons:
        e = english_reason(r, names)
        for text in (e["text_en"], e["source_en"]):
            rest = text
            for h in hospitals:  # no English hospital name is on record: the name stays
                rest = rest.replace(h, "")
            assert not CJK.search(rest), (r, text)
    # a kiosk reason names the station's English name
    kiosk = next(r for r in reasons if (r.get("source") or "").endswith("健康小屋"))
    with session_scope(demo_url) as s:
        name_en = s.scalar(select(Unit.name_en).where(Unit.name == kiosk["source"][:-len("健康小屋")]))
    assert english_reason(kiosk, names)["source_en"] == f"{name_en} health kiosk"


def test_src002_sources_inside_the_english_text_are_translated():
    names = {"冲桥派出所健康小屋": "Chongqiao Station health kiosk", "体检": "Exam",
             "南江市第一人民医院 体检": "南江市第一人民医院 exam"}
    r = {"text_en": "ECG of 2026-05-01 (体检) shows AF", "source": "体检"}
    assert english_reason(r, names)["text_en"] == "ECG of 2026-05-01 (Exam) shows AF"
    r = {"text_en": "Ultrasound of 2026-05-01 (南江市第一人民医院 体检) shows a nodule", "source": "南江市第一人民医院 体检"}
    assert english_reason(r, names)["text_en"] == "Ultrasound of 2026-05-01 (南江市第一人民医院 exam) shows a nodule"
    assert english_source("China-PAR: 冲桥派出所健康小屋; 体检", names) == "China-PAR: Chongqiao Station health kiosk; Exam"
    assert english_source("健康小屋 K0012", names) == "Kiosk K0012"
    assert english_source("多项指标综合", names) == "several measures combined"
