"""Addresses per country: which parts a country's addresses have, what each is called there, and
the order they are written in (the label, the packing slip, the buyer's page, full_address).

Vietnam writes street, ward or commune (phường/xã), district (quận/huyện), province or city;
Thailand street, sub-district (tambon/khwaeng), district (amphoe/khet), province, postcode;
Indonesia street, kelurahan/desa, kecamatan, city or regency, province, postcode; the United
Kingdom the street, the post town in capitals, and the postcode on its own line (Royal Mail).
A country not listed is written street, city, region, postcode.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Format:
    required: tuple = ()  # beyond line1, city and country, which every address has
    labels: tuple = ()  # (part, label) where the country calls a part something else
    upper_city: bool = False

    def label(self, part):
        return dict(self.labels).get(part) or DEFAULT_LABELS[part]


DEFAULT_LABELS = {
    "line1": _("Address"), "line2": _("Address line 2"), "subdistrict": _("Sub-district"),
    "district": _("District"), "city": _("City"), "region": _("Region"), "postal_code": _("Postal code"),
    "country": _("Country"),
}

FORMATS = {
    "VN": Format(required=("district",), labels=(("subdistrict", _("Ward or commune")), ("city", _("Province or city")))),
    "TH": Format(required=("district",), labels=(("city", _("Province")), ("postal_code", _("Postcode")))),
    "ID": Format(required=("district",), labels=(("subdistrict", _("Village (kelurahan/desa)")),
                                                 ("district", _("Sub-district (kecamatan)")),
                                                 ("city", _("City or regency")), ("region", _("Province")))),
    "MY": Format(labels=(("region", _("State")), ("postal_code", _("Postcode")))),
    "PH": Format(labels=(("subdistrict", _("Barangay")), ("city", _("City or municipality")), ("region", _("Province")))),
    "GB": Format(required=("postal_code",), labels=(("city", _("Post town")), ("postal_code", _("Postcode"))),
                 upper_city=True),
    "US": Format(labels=(("region", _("State")), ("postal_code", _("ZIP code")))),
}
DEFAULT = Format()


def format_for(country):
    return FORMATS.get((country or "").upper(), DEFAULT)


_FIELDS = {"line1": "address_line1", "line2": "address_line2"}


def address_lines(a):
    """The address (an Order or a row with its fields, or the storefront's address dict) as the
    lines its country writes, without the empty ones; the country code last."""
    if isinstance(a, dict):
        def get(k):
            return a.get(k) or ""
    else:
        def get(k):
            return getattr(a, _FIELDS.get(k, k), "") or ""
    country = (get("country") or "").upper()
    fmt = format_for(country)
    city = get("city").upper() if fmt.upper_city else get("city")
    if country == "US":
        last = " ".join(p for p in [", ".join(p for p in [city, get("region")] if p), get("postal_code")] if p)
        lines = [get("line1"), get("line2"), last]
    elif country == "GB":
        lines = [get("line1"), get("line2"), get("subdistrict"), city, get("region"), get("postal_code")]
    elif country in ("VN", "TH", "ID", "PH"):
        lines = [get("line1"), get("line2"), get("subdistrict"), get("district"),
                 " ".join(p for p in [city, get("region"), get("postal_code")] if p)]
    else:
        lines = [get("line1"), get("line2"), get("subdistrict"), get("district"),
                 " ".join(p for p in [city, get("region"), get("postal_code")] if p)]
    return [line for line in lines if line] + ([country] if country else [])
