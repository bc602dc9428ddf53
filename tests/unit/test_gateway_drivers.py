"""Gateway drivers: checksums, parsing by key, framing with noise, split frames, bounded buffers."""
import datetime as dt
import os
import random

from ingest import idcard
from ingest.gateway import drivers
from ingest.gateway.drivers import (CardReader, Hl7, Nibp, Tanita, hl7_oru, nibp_answer, nibp_poll, parse_tanita,
                                    tanita_checksum, tanita_frame)

SAMPLE = (b'{0,16,~0,1,~1,1,~2,1,MO,"SC-240",SN,"00000002",Bt,0,GE,1,AG,30,Hm,170,Pt,0.0,Wk,82.7,FW,18.6,fW,15.4,'
          b'MW,67.3,mW,64.0,sW,19,bW,3.3,wW,48.0,ww,58.0,MI,28.6,Sw,63.6,OV,30.0,IF,6,rb,8255,rB,1973,rJ,12,rA,28,'
          b'ZF,369.4,CS,FD\r\n')


def _statuses(outcomes):
    return [o.status for o in outcomes]


def test_gw001_tanita_sample_checksum():
    body = SAMPLE[: SAMPLE.rindex(b"CS,")]
    assert body.endswith(b"ZF,369.4,")
    assert tanita_checksum(body) == "FD"
    out = parse_tanita(SAMPLE)
    assert out.status == "ok", out.reason
    assert out.parsed["model"] == "SC-240"
    assert out.parsed["values"] == {"height_cm": 170.0, "weight_kg": 82.7, "body_fat_pct": 18.6, "bmi": 28.6,
                                    "visceral_fat": 6.0}
    assert out.parsed["extra"]["muscle_kg"] == 64.0 and out.parsed["extra"]["age"] == 30.0
    broken = SAMPLE.replace(b"Wk,82.7", b"Wk,82.8")
    bad = parse_tanita(broken)
    assert bad.status == "rejected" and "checksum mismatch" in bad.reason and "FD" in bad.reason


def test_gw002_tanita_parse_by_key_not_position_and_date_formats():
    when = dt.datetime(2026, 3, 9, 7, 45)
    a = tanita_frame({"Wk": "70.5", "Hm": "175.0", "FW": "15.0", "MI": "23.0", "IF": 4}, model="MC-780",
                     ident="0000012345", when=when, date_key="DT")
    b = tanita_frame({"IF": 4, "MI": "23.0", "FW": "15.0", "Hm": "175.0", "Wk": "70.5", "mW": "55.1"},
                     model="DC-360", ident="0000012345", when=when, date_key="DA")
    c = tanita_frame({"Wk": "70.5", "Hm": "175.0"}, model="BC-420", ident="12345", when=when, date_key="Da")
    pa, pb, pc = (parse_tanita(x) for x in (a, b, c))
    assert [p.status for p in (pa, pb, pc)] == ["ok", "ok", "ok"]
    assert pa.parsed["values"] == pb.parsed["values"]
    assert pc.parsed["values"]["bmi"] == round(70.5 / 1.75 ** 2, 1)  # computed when the model sends none
    for p in (pa, pb, pc):
        assert p.parsed["device_time"] == "2026-03-09T07:45"
        assert p.parsed["ident"]["kind"] == "badge" and p.parsed["ident"]["normalised"] == "12345"
    no_id = parse_tanita(tanita_frame({"Wk": "70.5"}, ident="0000000000000000"))
    assert no_id.status == "ok" and no_id.parsed["ident"] == {}
    imperial = tanita_frame({"Wk": "155.0"}).replace(b"~0,1", b"~0,2")
    imperial = imperial[: imperial.rindex(b"CS,")] + f"CS,{tanita_checksum(imperial[: imperial.rindex(b'CS,')])}\r\n".encode()
    assert "non-metric" in parse_tanita(imperial).reason
    silly = parse_tanita(tanita_frame({"Wk": "7.0"}))
    assert silly.status == "rejected" and "implausible weight_kg" in silly.reason
    assert parse_tanita(b'{0,16,~0,1,MO,"X",Wk,70.0,CS,ZZ\r\n').reason.startswith("checksum field is not")


def test_gw003_nibp_poll_bytes():
    assert nibp_poll() == b"\x0218;;DF\x03"
    assert drivers.nibp_checksum(b"18;;") == "DF"


def test_gw004_nibp_counter_errors_and_zero_pressure():
    n = Nibp({"poll_seconds": 1})
    assert n.poll_request() == b"\x0218;;DF\x03"
    first = n.feed(nibp_answer({"S": "0", "M": "00", "P": "120080093", "R": "070", "N": "0007"}))
    assert _statuses(first) == ["idle"] and "primed" in first[0].reason  # a stored reading of unknown age
    same = n.feed(nibp_answer({"S": "0", "M": "00", "P": "120080093", "R": "070", "N": "0007"}))
    assert _statuses(same) == ["idle"]
    new = n.feed(nibp_answer({"S": "0", "M": "00", "P": "142091108", "R": "081", "N": "0008"}) + b"\r")
    assert _statuses(new) == ["ok"]
    assert new[0].parsed["values"] == {"sbp": 142.0, "dbp": 91.0, "pulse": 81.0} and new[0].parsed["mean"] == 108
    err = n.feed(nibp_answer({"S": "0", "M": "05", "P": "000000000", "R": "000", "N": "0009"}))
    assert _statuses(err) == ["rejected"] and "error code M05" in err[0].reason
    zero = n.feed(nibp_answer({"S": "0", "M": "00", "P": "000000000", "R": "000", "N": "0010"}))
    assert _statuses(zero) == ["rejected"] and "all-zero" in zero[0].reason
    bad = n.feed(nibp_answer({"S": "0", "M": "00", "P": "130085100", "R": "070", "N": "0011"}, bad_checksum=True))
    assert _statuses(bad) == ["rejected"] and "checksum mismatch" in bad[0].reason
    restored = Nibp(last_counter="0011")  # after a restart the journal hands over the last counter
    assert _statuses(restored.feed(nibp_answer({"S": "0", "M": "00", "P": "130085100", "R": "070", "N": "0011"}))) \
        == ["idle"]
    assert _statuses(restored.feed(nibp_answer({"S": "0", "M": "00", "P": "130085100", "R": "070", "N": "0012"}))) \
        == ["ok"]


def test_gw005_framer_noise_split_and_junk_after_frames():
    t = Tanita()
    frame = tanita_frame({"Wk": "70.0", "Hm": "170"}, ident="12345")
    stream = b"\xff\xfe garbage" + frame + b"\x00\r\n" + frame + b"\x00\x00" + b"junk!" + frame
    out = []
    for i in range(len(stream)):  # one byte per read: every frame is split everywhere
        out += t.feed(stream[i:i + 1])
    out += t.idle(1.0)
    assert _statuses(out) == ["noise", "ok", "ok", "noise", "ok"]
    assert out[0].raw == b"\xff\xfe garbage" and out[0].noise_bytes == 10
    assert out[3].raw == b"junk!"  # NUL/CR/LF after a frame are dropped silently, real junk is kept
    # a frame cut short by the next one is rejected with the reason, the next one still parses
    out = t.feed(frame[:60] + frame)
    assert _statuses(out) == ["rejected", "ok"] and out[0].reason.startswith("truncated")
    # a partial frame when the port is lost is reported, not dropped
    t.feed(frame[:30])
    lost = t.flush()
    assert _statuses(lost) == ["rejected"] and "port lost" in lost[0].reason and lost[0].raw == frame[:30]


def test_gw006_garbage_does_not_grow_memory():
    rng = random.Random(5)
    for proto in (Tanita(), Nibp(), Hl7(), CardReader()):
        seen = 0
        peak = 0
        for _ in range(100):  # 400 kB of garbage with start markers but no end markers
            chunk = bytes(rng.choices(b"abc{\x02\x0bxyz", k=4096))
            for o in proto.feed(chunk):
                seen += o.noise_bytes if o.status == "noise" else len(o.raw)
                assert len(o.raw) <= max(proto.framer.max_frame, drivers.NOISE_SAMPLE)
            peak = max(peak, proto.framer.buffered)
        assert peak <= proto.framer.max_frame + drivers.NOISE_SAMPLE + 4096, (proto.driver, peak)
        assert seen > 0


def test_gw007_overlong_frame_is_cut_and_stream_resyncs():
    t = Tanita({"max_frame": 300})
    good = tanita_frame({"Wk": "66.0"})
    out = t.feed(b"{0,16," + b"A" * 1000 + good)
    assert _statuses(out)[0] == "rejected" and "longer than 300" in out[0].reason
    assert out[-1].status == "ok" and out[-1].parsed["values"]["weight_kg"] == 66.0
    # a '{' that no frame starts with is noise, and the scan resumes one byte later
    out = t.feed(b"{{x{" + good)
    assert _statuses(out) == ["noise", "ok"] and out[0].raw == b"{{x{"
    card = CardReader()
    out = card.feed(b"9" * 200 + b"\r\n0012345\r\n")
    assert _statuses(out)[0] == "rejected" and out[-1].status == "ok"
    assert out[-1].parsed["ident"]["badge"] == "0012345"


def test_gw008_hl7_mllp_ack_aa_and_ae():
    h = Hl7(clock=lambda: "20260101120000")
    msg = hl7_oru("012345", [("8480-6", 135, "mm[Hg]"), ("8462-4", 88, "mm[Hg]"), ("29463-7", 71500, "g"),
                             ("8302-2", 1.72, "m"), ("99999-9", 5, "x")], control_id="C77")
    split = len(msg) - 1  # the end marker FS CR split across two reads
    out = h.feed(b"\r\n" + msg[:split]) + h.feed(msg[split:])
    assert _statuses(out) == ["ok"]
    assert out[0].parsed["values"] == {"sbp": 135.0, "dbp": 88.0, "weight_kg": 71.5, "height_cm": 172.0}
    assert out[0].parsed["ident"]["normalised"] == "12345" and out[0].parsed["skipped"] == ["99999-9"]
    ack = out[0].reply
    assert ack.startswith(b"\x0b") and ack.endswith(b"\x1c\r") and b"MSA|AA|C77" in ack
    wrong = msg.replace(b"ORU^R01^ORU_R01", b"ADT^A01^ADT_A01")
    out = h.feed(wrong)
    assert _statuses(out) == ["rejected"] and b"MSA|AE|C77|unsupported message type" in out[0].reply
    nothing = h.feed(hl7_oru("012345", [("12345-6", 1, "x")], control_id="C78"))
    assert b"MSA|AE|C78|no OBX" in nothing[0].reply
    garbage = h.feed(b"\x0bMSH|garbage\x1c\r")
    assert garbage[0].status == "rejected" and b"MSA|AE|" in garbage[0].reply
    assert _statuses(h.feed(b"\x0bnot hl7 at all\x1c\r") + h.idle(1)) == ["noise"]


def test_gw009_card_reader_ids_badges_and_redaction():
    idn = idcard.make("440602", dt.date(1985, 3, 4), 123, "male")
    wrong = idn[:-1] + ("0" if idn[-1] != "0" else "1")
    out = CardReader().feed(f"{idn}\r\n 0012345 \n{wrong}\r\n".encode())
    assert _statuses(out) == ["ok", "ok", "rejected"]
    assert out[0].parsed["ident"] == {"kind": "id_card", "masked": idcard.mask(idn)}
    assert idn not in str(out[0].parsed)  # the clear number stays out of parse results
    assert "GB 11643" in out[2].reason
    assert drivers.ident_secret("card_reader", out[0].raw) == idn
    assert drivers.redact(b"PID|1||" + idn.encode() + b"^^^") == b"PID|1||" + idcard.mask(idn).encode() + b"^^^"
    tanita = tanita_frame({"Wk": "70.0"}, ident=idn)
    assert drivers.ident_secret("tanita", tanita) == idn
    assert parse_tanita(tanita).parsed["ident"]["kind"] == "id_card"
    assert drivers.ident_secret("hl7", hl7_oru(idn, [("8480-6", 120, "mm[Hg]")])) == idn


def test_gw010_parser_error_never_drops_a_frame(monkeypatch):
    t = Tanita()

    def boom(raw):
        raise RuntimeError("bug")

    monkeypatch.setattr(t, "parse", boom)
    out = t.feed(tanita_frame({"Wk": "70.0"}))
    assert _statuses(out) == ["rejected"] and "parser error: RuntimeError: bug" in out[0].reason
    assert os.path.basename(drivers.__file__) == "drivers.py"
