"""The carriers the platform knows: who they are and what their tracking numbers look like.

Kept as data, not rows: a new carrier is a code change reviewed with its number format,
and the feed, the forms and the CSV upload all read the same table.
"""

import re
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    pattern: str  # the whole tracking number, upper-case, no spaces
    example: str
    platform: bool = False  # the platform's partner carrier (ship by platform)

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
    ]
}

SELLER_CARRIERS = [(c.code, c.name) for c in CARRIERS.values() if not c.platform]
ALL_CARRIERS = [(c.code, c.name) for c in CARRIERS.values()]


_SEPARATORS = re.compile(r"[\s-]")


def normalize(number: str) -> str:
    return _SEPARATORS.sub("", number or "").upper()


def check(carrier_code: str, number: str) -> str | None:
    """The reason a tracking number is not acceptable for the carrier, or None."""
    carrier = CARRIERS.get(carrier_code)
    if carrier is None:
        return f"Unknown carrier {carrier_code!r}; choose one of {', '.join(CARRIERS)}."
    if not number:
        return "Enter a tracking number."
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
