"""The markets' carriers (issue 17): each with its tracking-number format, checked where every
carrier's is (the forms, the API, the CSV upload, the feed), and offered first for their countries."""

import pytest

from shipping import carriers


@pytest.mark.parametrize("code, good, bad", [
    ("jnt", "JP1234567890", "XX12"),
    ("ninjavan", "NVSGABC0123456789", "NV12"),
    ("flash", "TH0123456789A", "TH12"),
    ("kerry", "KERDO123456789", "123"),
    ("thpost", "EF123456789TH", "EF123456789GB"),
    ("ghn", "GYKHL3QU", "GY"),
    ("ghtk", "S19880431.MN9.A1.123456789", "S1988"),
    ("viettelpost", "1234567890123", "12345"),
    ("vnpost", "EE123456789VN", "EE123456789TH"),
    ("jne", "CGK1234567890", "CG1"),
    ("sicepat", "001234567890", "0012"),
    ("posid", "RR123456789ID", "RR123456789VN"),
    ("royalmail", "AB123456789GB", "AB123456789US"),
    ("evri", "H01HYA0012345678", "H01"),
    ("correos", "PQ4F6P0700412340128001R", "PQ4"),
])
def test_tracking_formats(code, good, bad):
    assert carriers.check(code, carriers.normalize(good)) is None
    problem = carriers.check(code, carriers.normalize(bad))
    assert problem and carriers.CARRIERS[code].name in problem and carriers.CARRIERS[code].example in problem


def test_every_example_is_valid_and_no_code_is_too_long_for_the_column():
    for code, carrier in carriers.CARRIERS.items():
        assert len(code) <= 16
        assert carrier.valid(carriers.normalize(carrier.example)), code


def test_the_destination_carriers_come_first():
    vn = [code for code, _ in carriers.for_destination("VN")]
    assert set(vn[:6]) == {"ghn", "ghtk", "viettelpost", "vnpost", "jnt", "ninjavan"}
    th = [code for code, _ in carriers.for_destination("TH")]
    assert {"flash", "kerry", "thpost"} <= set(th[:6])
    gb = [code for code, _ in carriers.for_destination("gb")]
    assert gb[:2] == ["royalmail", "evri"]
    assert sorted(carriers.for_destination("")) == sorted(carriers.SELLER_CARRIERS)
