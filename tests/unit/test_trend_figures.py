"""The portrait's trend charts draw what they claim (issue 20, item 4: honest trends)."""
from callbacks.portrait import trend_figure, trend_legend


def _series(**more):
    base = {"code": "fpg", "zh": "空腹血糖", "en": "Fasting glucose", "unit": "mmol/L", "decimals": 2, "harmful": "up",
            "bands": [{"below": 6.1, "class": "normal", "tone": "normal", "zh": "", "en": ""},
                      {"below": None, "class": "ifg", "tone": "borderline", "zh": "", "en": ""}],
            "exam": [("2023-05-08T08:00", 5.6, "第一人民医院 体检"), ("2024-05-09T08:00", 5.7, "第一人民医院 体检"),
                     ("2025-05-12T08:00", 5.9, "第一人民医院 体检")],
            "kiosk": [], "self": [], "screening": [], "lowess": [], "trend": None, "forecast": None}
    return {**base, **more}


TREND = {"n": 3, "slope_per_year": 0.15, "ci_low": -0.5, "ci_high": 0.8, "p_value": 0.2, "significant": False,
         "worsening": False, "improving": False, "start": ["2023-05-08", 5.58], "end": ["2025-05-12", 5.88],
         "excluded": [], "band": [["2023-05-08", 5.4, 5.76], ["2024-05-10", 5.65, 5.8], ["2025-05-12", 5.7, 6.06]]}
YEARLY = {"dates": ["2025-05-12", "2026-05-12"], "mean": [5.88, 6.03], "lower": [5.5, 5.45], "upper": [6.26, 6.61],
          "months_used": 3, "level": 0.95, "kind": "yearly"}


def test_trn010_exam_only_legend_names_only_what_is_drawn():
    text = trend_legend([_series(trend=TREND, forecast=YEARLY)]).children
    assert "体检" in text and "趋势线" in text and "下次体检预测" in text
    assert "健康小屋" not in text and "平滑曲线" not in text and "12个月" not in text


def test_trn011_the_trend_band_and_the_yearly_forecast_are_drawn():
    fig = trend_figure(_series(trend=TREND, forecast=YEARLY))
    names = [t.get("name") for t in fig["data"]]
    band = next(t for t in fig["data"] if t.get("name") == "趋势95%置信带")
    assert band["fill"] == "toself" and len(band["x"]) == 2 * len(TREND["band"])
    assert "预测" in names and "95%预测区间" in names
    assert any(a["text"] == "下次体检预测" for a in fig["layout"]["annotations"])
    plain = trend_figure(_series())
    assert [t.get("name") for t in plain["data"]] == ["体检"]  # nothing promised that is not there
