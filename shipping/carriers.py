"""The carriers the platform knows: who they are and what their tracking numbers look like.

Kept as data, not rows: a new carrier is a code change reviewed with its number format,
and the feed, the forms and the CSV upload all read the same table.
"""

import re
import secrets
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    pattern: str  # the whole tracking number, upper-case, no spaces
    example: str
    platform: bool = False  # the platform's partner carrier (ship by platform)
    countries: tuple = ()  # where it delivers (ISO 3166); empty: worldwide

    def valid(self, number: str) -> bool:
        # ASCII: \d alone also matches "٣" and "²".
        return re.fullmatch(self.pattern, number, re.ASCII) is not None


PLATFORM_CARRIER = "scx"

CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in [
        Carrier("scx", "Seller Center Express", r"SCX\d{10}", "SCX0000012345", platform=True),
        Carrier("ups", "UPS", r"1Z[0-9A-Z]{16}", "1Z999AA10123456784"),
        Carrier("usps", "USPS", r"(9[1-5]\d{18,20})|([A-Z]{2}\d{9}US)", "9400111899223456789012"),
        Carrier("fedex", "FedEx", r"\d{12}|\d{15}", "123456789012"),
        Carrier("dhl", "DHL Express", r"\d{10}|JD\d{18}", "1234567890"),
        Carrier("dpd", "DPD", r"\d{14}", "01234567890123"),
        # South-East Asia. J&T's and Ninja Van's numbers differ by country; these are the forms
        # their labels print (a letter prefix and digits; Ninja Van's NV + country + shipper ref).
        Carrier("jnt", "J&T Express", r"(J[A-Z]\d{10,13})|(\d{12,15})", "JP1234567890",
                countries=("ID", "VN", "TH", "MY", "PH", "SG")),
        Carrier("ninjavan", "Ninja Van", r"NV[A-Z]{2}[0-9A-Z]{8,20}", "NVSGABC0123456789",
                countries=("SG", "MY", "ID", "VN", "TH", "PH")),
        Carrier("flash", "Flash Express", r"TH\d{10,12}[A-Z]?", "TH0123456789A", countries=("TH",)),
        Carrier("kerry", "Kerry Express", r"[A-Z]{3,5}\d{9,12}", "KERDO123456789", countries=("TH",)),
        Carrier("thpost", "Thailand Post", r"[A-Z]{2}\d{9}TH", "EF123456789TH", countries=("TH",)),
        Carrier("ghn", "GHN (Giao Hàng Nhanh)", r"[A-Z0-9]{8,10}", "GYKHL3QU", countries=("VN",)),
        Carrier("ghtk", "GHTK (Giao Hàng Tiết Kiệm)", r"S\d{6,10}(\.[A-Z0-9]{1,6}){1,4}\.\d{6,12}",
                "S19880431.MN9.A1.123456789", countries=("VN",)),
        Carrier("viettelpost", "Viettel Post", r"\d{9,13}", "1234567890123", countries=("VN",)),
        Carrier("vnpost", "Vietnam Post", r"[A-Z]{2}\d{9}VN", "EE123456789VN", countries=("VN",)),
        Carrier("jne", "JNE", r"([A-Z]{3}\d{10,13})|(\d{15,16})", "CGK1234567890", countries=("ID",)),
        Carrier("sicepat", "SiCepat", r"\d{12}", "001234567890", countries=("ID",)),
        Carrier("posid", "Pos Indonesia", r"[A-Z]{2}\d{9}ID", "RR123456789ID", countries=("ID",)),
        Carrier("lbc", "LBC Express", r"\d{12,15}", "123456789012", countries=("PH",)),
        # The United Kingdom and Spain.
        Carrier("royalmail", "Royal Mail", r"[A-Z]{2}\d{9}GB", "AB123456789GB", countries=("GB",)),
        Carrier("evri", "Evri", r"(H[0-9A-Z]{15})|(\d{16})", "H01HYA0012345678", countries=("GB",)),
        Carrier("correos", "Correos", r"([A-Z]{2}\d{9}ES)|(P[A-Z0-9]{15,22})", "PQ4F6P0700412340128001R",
                countries=("ES",)),
    ]
}

SELLER_CARRIERS = [(c.code, c.name) for c in CARRIERS.values() if not c.platform]
ALL_CARRIERS = [(c.code, c.name) for c in CARRIERS.values()]


def for_destination(country):
    """SELLER_CARRIERS with the destination's own carriers first (a Vietnamese order: GHN, GHTK,
    Viettel Post, Vietnam Post, J&T, Ninja Van), then the worldwide ones, then the rest."""
    country = (country or "").upper()

    def rank(code):
        c = CARRIERS[code]
        return 0 if country in c.countries else 1 if not c.countries else 2

    return sorted(SELLER_CARRIERS, key=lambda choice: rank(choice[0]))


_SEPARATORS = re.compile(r"[\s-]")


def normalize(number: str) -> str:
    return _SEPARATORS.sub("", number or "").upper()


def check(carrier_code: str, number: str) -> str | None:
    """The reason a tracking number is not acceptable for the carrier, or None."""
    carrier = CARRIERS.get(carrier_code)
    if carrier is None:
        return _("Unknown carrier %(carrier_code)s; choose one of %(items)s.") % {"carrier_code": repr(carrier_code), "items": ', '.join(CARRIERS)}
    if not number:
        return _("Enter a tracking number.")
    if not carrier.valid(number):
        return f"{number} is not a {carrier.name} tracking number (they look like {carrier.example})."
    return None


def new_platform_number() -> str:
    return f"SCX{secrets.randbelow(10**10):010d}"


# The platform carrier's drop-off points (a real deployment reads them from the carrier).
DROPOFF_POINTS = [
    ("SCX-DP-001", "Corner Mart, 12 High St (Mon-Sat 8-20)"),
    ("SCX-DP-002", "Station Kiosk, Central Station (daily 6-23)"),
    ("SCX-DP-003", "SCX Depot, 4 Freight Way (Mon-Fri 9-18)"),
]
