"""GB 11643-1999 ID numbers: check character, parsing, making, masking, keyed hash."""
from __future__ import annotations

import datetime as dt

import pytest

from ingest import idcard


def test_idcard001_published_example_is_valid():
    assert idcard.check_digit("11010519491231002") == "X"
    assert idcard.is_valid("11010519491231002X")
    assert idcard.is_valid("11010519491231002x")  # lower-case x is accepted
    assert idcard.parse("11010519491231002X") == (dt.date(1949, 12, 31), "female")


def test_idcard002_hand_computed_check_digits():
    # 4·7+4·9+0·10+6·5+0·8+4·4+1·2+9·1+8·6+5·3+0·7+3·9+0·10+7·5+0·8+1·4+3·2 = 256; 256 mod 11 = 3 -> "9"
    assert idcard.check_digit("44060419850307013") == "9"
    assert idcard.parse("440604198503070139") == (dt.date(1985, 3, 7), "male")
    # sum 197; 197 mod 11 = 10 -> "2"
    assert idcard.check_digit("44060219800101123") == "2"
    assert idcard.is_valid("440602198001011232")
    # sum 0 -> "1"
    assert idcard.check_digit("00000000000000000") == "1"


def test_idcard003_invalid_numbers():
    assert not idcard.is_valid("440604198503070138")  # wrong check digit
    assert not idcard.is_valid("44060419850230013X")  # 30 February
    assert not idcard.is_valid("4406041985030701")  # too short
    assert not idcard.is_valid("44060419850307013A")
    assert not idcard.is_valid(None)
    future = dt.date.today() + dt.timedelta(days=400)
    first17 = f"440604{future:%Y%m%d}011"
    assert not idcard.is_valid(first17 + idcard.check_digit(first17))
    with pytest.raises(ValueError):
        idcard.parse("440604198503070138")
    with pytest.raises(ValueError):
        idcard.check_digit("1234")


def test_idcard004_make_round_trips_and_respects_sex():
    born = dt.date(1990, 2, 28)
    for seq in (0, 1, 2, 998, 999):
        for sex in ("male", "female"):
            num = idcard.make("440606", born, seq, sex)
            assert idcard.is_valid(num)
            assert idcard.parse(num) == (born, sex)
            assert num.startswith("44060619900228")
    assert idcard.make("440606", born, 12) == "44060619900228012" + idcard.check_digit("44060619900228012")
    with pytest.raises(ValueError):
        idcard.make("4406", born, 1)
    with pytest.raises(ValueError):
        idcard.make("440606", born, 1000)


def test_idcard005_mask_and_keyed_hash():
    num = "440604198503070139"
    assert idcard.mask(num) == "440604********0139"
    assert idcard.mask("11010519491231002x") == "110105********002X"
    h = idcard.keyed_hash(num, idcard.DEMO_ID_KEY)
    assert len(h) == 64 and h == idcard.keyed_hash(num, "demo-id-key")
    assert h != idcard.keyed_hash(num, "another-key")
    assert idcard.keyed_hash("11010519491231002x", "k") == idcard.keyed_hash("11010519491231002X", "k")
