"""Big answers go gzipped to a browser that accepts it, with the same security headers (issue 22)."""
import gzip
import json


def test_cmp001_a_big_answer_is_gzipped_and_keeps_its_headers(as_user):
    c = as_user("manager_d1")
    plain = c.get("/_dash-layout")
    packed = c.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers  # a client that did not ask gets it as it is
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    body = gzip.decompress(packed.get_data())
    assert json.loads(body) == plain.get_json() and len(packed.get_data()) < len(body) / 2
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert packed.headers[name] == plain.headers[name]


def test_cmp002_small_answers_and_refusals_stay_plain(client):
    res = client.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})  # anonymous: a short 401
    assert res.status_code == 401 and "Content-Encoding" not in res.headers
