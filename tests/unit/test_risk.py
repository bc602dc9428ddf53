"""China-PAR 10-year ASCVD risk: the 2019 guideline's worked example, ideal
values, category boundaries, age range and the women's equation."""

import math

import pytest

from models.risk import china_par_10y, china_par_category, china_par_ideal

# The 2019 guideline's worked example (CLINICAL.md): 4.7%, 1.1% at ideal values.
EXAMPLE = dict(sex="male", age=40, sbp=145, bp_treated=False, tc=5.2, hdl=1.3,
               waist=80, smoker=False, diabetes=False, north=True, urban=True,
               family_history=True)


def person(**over):
    return {**EXAMPLE, **over}


def test_risk001_guideline_example_is_4_7():
    pct = china_par_10y(**EXAMPLE)
    assert round(pct, 1) == 4.7
    assert china_par_category(pct) == "low"


def test_risk002_guideline_example_ideal_is_1_1():
    assert round(china_par_ideal(**EXAMPLE), 1) == 1.1


def test_risk003_ideal_ignores_modifiable_factors():
    base = china_par_ideal(**EXAMPLE)
    worse = china_par_ideal(**person(sbp=170, bp_treated=True, tc=7.0, hdl=0.8,
                                     waist=105, smoker=True, diabetes=True))
    minimal = china_par_ideal(sex="male", age=40, north=True, urban=True)
    assert base == worse == minimal
    # ideal = the full equation at TC 200 / HDL-C 40 mg/dL, SBP 120, waist 90 (men)
    assert base == china_par_10y(**person(sbp=120, tc=200 * 0.0259, hdl=40 * 0.0259,
                                          waist=90, family_history=False))
    # the non-modifiable ones are kept
    assert china_par_ideal(**person(age=60)) > base
    assert china_par_ideal(**person(north=False)) < base


def test_risk004_ideal_rejects_unknown_kwargs():
    with pytest.raises(TypeError):
        china_par_ideal(sex="male", age=40, north=True, urban=True, wasit=80)


@pytest.mark.parametrize("pct, expected", [
    (0.0, "low"), (4.9, "low"), (4.94, "low"), (4.95, "intermediate"),   # one decimal
    (5.0, "intermediate"), (5.1, "intermediate"),
    (9.9, "intermediate"), (9.94, "intermediate"), (9.95, "high"),
    (10.0, "high"), (10.1, "high"), (35.0, "high"),
])
def test_risk005_category_boundaries(pct, expected):
    assert china_par_category(pct) == expected


def test_risk006_category_none():
    assert china_par_category(None) is None


@pytest.mark.parametrize("age, applies", [
    (19, False), (19.9, False), (20, True), (21, True),
    (84, True), (85, True), (85.1, False), (86, False),
])
def test_risk007_age_range_20_to_85(age, applies):
    for sex in ("male", "female"):
        pct = china_par_10y(**person(sex=sex, age=age))
        assert (pct is not None) is applies
        assert (china_par_ideal(**person(sex=sex, age=age)) is not None) is applies


def _women_by_hand(age, sbp, treated, tc, hdl, waist, smoker, diabetes, north):
    """The women's column of the CLINICAL.md table, written out independently."""
    la, ls = math.log(age), math.log(sbp)
    s = (24.874 * la
         + (20.709 * ls - 4.528 * la * ls if treated else 19.982 * ls - 4.360 * la * ls)
         + 0.058 * math.log(tc / 0.0259) - 0.217 * math.log(hdl / 0.0259)
         + 1.475 * math.log(waist) + 0.495 * smoker + 0.567 * diabetes + 0.544 * north)
    return 100 * (1 - 0.98507 ** math.exp(s - 117.26))


@pytest.mark.parametrize("age, sbp, treated, tc, hdl, waist, smoker, diabetes, north", [
    (55, 140, False, 5.5, 1.3, 85, False, False, False),
    (62, 150, True, 6.0, 1.1, 92, True, True, True),
    (45, 118, False, 4.8, 1.6, 74, False, False, True),
])
def test_risk008_women_equation_matches_table(age, sbp, treated, tc, hdl, waist,
                                              smoker, diabetes, north):
    got = china_par_10y(sex="female", age=age, sbp=sbp, bp_treated=treated, tc=tc,
                        hdl=hdl, waist=waist, smoker=smoker, diabetes=diabetes,
                        north=north, urban=True, family_history=False)
    assert got == pytest.approx(_women_by_hand(age, sbp, treated, tc, hdl, waist,
                                               smoker, diabetes, north), rel=1e-12)


def test_risk009_women_equation_sanity():
    w = dict(sex="female", age=55, sbp=140, bp_treated=False, tc=5.5, hdl=1.3, waist=85,
             smoker=False, diabetes=False, north=False, urban=True, family_history=False)
    base = china_par_10y(**w)
    assert 0 < base < 100
    # no urban or family-history terms in the women's equation
    assert china_par_10y(**{**w, "urban": False}) == base
    assert china_par_10y(**{**w, "family_history": True}) == base
    # every risk factor with a positive coefficient raises risk
    for change in ({"age": 65}, {"sbp": 160}, {"smoker": True}, {"diabetes": True},
                   {"north": True}, {"waist": 95}, {"hdl": 1.0}, {"tc": 6.5}):
        assert china_par_10y(**{**w, **change}) > base, change
    # women carry lower risk than men with the same profile
    assert base < china_par_10y(**{**w, "sex": "male"})
    # S10 = 0.98507, not the 0.99 of the 2016 supplement (that runs ~1/3 low)
    s = math.log(1 - base / 100) / math.log(0.98507)      # = exp(IndSum − MeanSum)
    assert base / (100 * (1 - 0.99 ** s)) == pytest.approx(1.5, abs=0.02)
    # ideal for women uses waist 85
    assert china_par_ideal(**w) == china_par_10y(**{**w, "sbp": 120, "tc": 200 * 0.0259,
                                                    "hdl": 40 * 0.0259, "waist": 85})


def test_risk010_men_factors_move_risk_as_expected():
    base = china_par_10y(**person(family_history=False))
    assert china_par_10y(**person(family_history=False, smoker=True)) > base   # at 40
    assert china_par_10y(**person(family_history=False, diabetes=True)) > base
    assert china_par_10y(**person(family_history=False, urban=False)) > base   # urban −0.164
    assert china_par_10y(**person(family_history=False, north=False)) < base
    assert china_par_10y(**EXAMPLE) > base                                     # family history
    # treated SBP carries more risk than the same untreated SBP (age 50)
    assert (china_par_10y(**person(age=50, bp_treated=True))
            > china_par_10y(**person(age=50, bp_treated=False)))


def test_risk011_uses_official_mgdl_factor():
    # TC/HDL enter as mg/dL = mmol/L ÷ 0.0259: 5.18 mmol/L is exactly 200 mg/dL
    a = china_par_10y(**person(tc=5.18, hdl=1.036))
    la, ls = math.log(40), math.log(145)
    s = (31.967 * la + 26.148 * ls - 5.731 * la * ls + 0.621 * math.log(200)
         - 0.695 * math.log(40) - 0.712 * math.log(80) + 0.475 - 0.164
         + 6.221 - 1.534 * la)
    assert a == pytest.approx(100 * (1 - 0.9707 ** math.exp(s - 140.68)), rel=1e-9)


@pytest.mark.parametrize("bad", [
    {"sex": "M"}, {"tc": 0}, {"hdl": -1.0}, {"sbp": 0}, {"waist": None},
])
def test_risk012_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        china_par_10y(**person(**bad))


def _men_by_hand(age, sbp, treated, tc, hdl, waist, smoker, diabetes, north, urban, fam):
    """The men's column of the CLINICAL.md table, written out independently."""
    la, ls = math.log(age), math.log(sbp)
    s = (31.967 * la
         + (27.388 * ls - 6.018 * la * ls if treated else 26.148 * ls - 5.731 * la * ls)
         + 0.621 * math.log(tc / 0.0259) - 0.695 * math.log(hdl / 0.0259)
         - 0.712 * math.log(waist) + 3.955 * smoker - 0.939 * la * smoker
         + 0.357 * diabetes + 0.475 * north - 0.164 * urban
         + 6.221 * fam - 1.534 * la * fam)
    return 100 * (1 - 0.9707 ** math.exp(s - 140.68))


@pytest.mark.parametrize("age, sbp, treated, tc, hdl, waist, smoker, diabetes, north, urban, fam", [
    (52, 150, True, 6.1, 1.0, 96, True, True, False, True, False),
    (67, 132, False, 4.9, 1.2, 88, True, False, True, False, True),
    (30, 125, False, 4.2, 1.5, 78, False, False, False, True, False),
])
def test_risk013_men_equation_matches_table(age, sbp, treated, tc, hdl, waist, smoker,
                                            diabetes, north, urban, fam):
    got = china_par_10y(sex="male", age=age, sbp=sbp, bp_treated=treated, tc=tc, hdl=hdl,
                        waist=waist, smoker=smoker, diabetes=diabetes, north=north,
                        urban=urban, family_history=fam)
    assert got == pytest.approx(_men_by_hand(age, sbp, treated, tc, hdl, waist, smoker,
                                             diabetes, north, urban, fam), rel=1e-12)
