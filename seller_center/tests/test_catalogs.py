"""The translation catalogs: complete for every marked string, and what the pages, the buyer's page and a label
print in each language.

The catalogs are read with Babel and compiled into a temporary directory for the session (LOCALE_PATHS points
there), so the tests need neither a `compilemessages` run nor write anything into the repository.
"""

import io
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ("vi", "th", "id", "es")
DOMAINS = ("django", "djangojs")
# What makemessages skips: the venv, tests, staff admin templates, collected static files, vendored JS, and the
# catalogs themselves (a `locale` directory it walks into would become where it writes).
IGNORE = [".venv", "tests", "*/tests/*", "templates/admin", "staticfiles", "locale", "static/js/vendor/*", "media"]


def catalog(lang, domain="django", root=LOCALE):
    with open(root / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="session")
def compiled_locale(tmp_path_factory):
    out = tmp_path_factory.mktemp("locale")
    for lang in LANGUAGES:
        for domain in DOMAINS:
            path = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
            if path.exists():
                (out / lang / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
                with open(out / lang / "LC_MESSAGES" / f"{domain}.mo", "wb") as f:
                    write_mo(f, catalog(lang, domain))
    return out


@pytest.fixture
def catalogs_in_use(settings, compiled_locale):
    # A LOCALE_PATHS change resets Django's translation caches (setting_changed), before and after.
    settings.LOCALE_PATHS = [str(compiled_locale)]
    return compiled_locale


# --- completeness -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_headers_give_the_languages_plural_forms(lang):
    for domain in DOMAINS:
        po = catalog(lang, domain)
        assert str(po.locale) == lang
        # Vietnamese, Thai and Indonesian have one form; Spanish has two (CLDR adds a third for millions)
        assert po.num_plurals == 1 if lang in ("vi", "th", "id") else po.num_plurals in (2, 3)


def test_every_marked_string_has_a_translation_in_every_catalog(tmp_path, settings, monkeypatch):
    """makemessages over the repository (into a copy of the catalogs): every msgid it finds, in templates, Python
    and app.js, has a non-empty, non-fuzzy msgstr (every plural form) in each language."""
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext (xgettext, msgmerge) is needed: apt-get install gettext")
    # makemessages writes into the locale directory nearest each source file, so it runs on a copy of the sources:
    # the repository's catalogs are never touched.
    src = tmp_path / "src"
    shutil.copytree(settings.BASE_DIR, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "node_modules", "media", "staticfiles", "*.pyc", "__pycache__", "*.sqlite3*", "*.mo"))
    settings.LOCALE_PATHS = [str(src / "locale")]
    monkeypatch.chdir(src)
    for domain in DOMAINS:
        call_command("makemessages", locale=list(LANGUAGES), domain=domain, ignore_patterns=IGNORE, no_wrap=True,
                     verbosity=0)
    problems = []
    for lang in LANGUAGES:
        for domain in DOMAINS:
            po = catalog(lang, domain, root=src / "locale")
            assert len(po) > (100 if domain == "django" else 5), (lang, domain)
            for message in po:
                if not message.id:
                    continue
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if message.fuzzy or not all(strings):
                    problems.append(f"{lang}/{domain}: {message.id!r}" + (" (fuzzy)" if message.fuzzy else ""))
                elif message.pluralizable and len(strings) != po.num_plurals:
                    problems.append(f"{lang}/{domain}: {message.id!r} has {len(strings)} of {po.num_plurals} forms")
    assert not problems, f"{len(problems)} catalog entries to fix:\n" + "\n".join(problems[:200])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_every_placeholder(lang):
    """A translation drops or adds no %(name)s, {{ }} or HTML tag of its msgid (msgfmt --check sees only
    python-format entries)."""
    import re

    marks = re.compile(r"%\(\w+\)s|%s|<[^>]+>")
    bad = []
    for domain in DOMAINS:
        for message in catalog(lang, domain):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            want = sorted(marks.findall(ids[-1]))
            if message.pluralizable:
                # A plural form may leave the number out ("la entrega más reciente" for one), nothing else.
                bad += [f"{message.id!r} -> {s!r}" for s in strings if not set(marks.findall(s)) <= set(want)]
            else:
                bad += [f"{message.id!r} -> {s!r}" for s in strings if sorted(marks.findall(s)) != want]
    assert not bad, "\n".join(bad)


# --- what each language prints ------------------------------------------------------------------------------------

class _Text(HTMLParser):
    """The text nodes and read attributes of a page, each stripped."""

    READ = {"aria-label", "title", "placeholder", "alt", "hx-confirm"}

    def __init__(self):
        super().__init__()
        self.raw, self.nodes = 0, []

    def handle_starttag(self, tag, attrs):
        self.raw += tag in ("script", "style")
        self.nodes += [" ".join(v.split()) for k, v in attrs if k in self.READ and v]

    def handle_endtag(self, tag):
        self.raw -= tag in ("script", "style") and self.raw > 0

    def handle_data(self, data):
        if not self.raw and data.strip():
            self.nodes.append(" ".join(data.split()))


def text_nodes(html):
    reader = _Text()
    reader.feed(html)
    return set(reader.nodes)


def untranslated(nodes, lang):
    """The catalog's source strings that show in English: a text node that is exactly a msgid whose translation
    differs from it (placeholders and markup aside: those never stand alone in a node)."""
    english = set()
    for domain in ("django",):
        for message in catalog(lang, domain):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in ids:
                if msgid and "%" not in msgid and "<" not in msgid and msgid not in strings:
                    english.add(" ".join(msgid.split()))
    # The language switcher names each language in that language ("English" on a Spanish page is right).
    names = {str(name) for _code, name in settings.LANGUAGES} | {"English"}
    return sorted((nodes & english) - names)


@pytest.fixture
def seller_world(db, shop, seller):
    """A shop with something on most pages: an order to ship (arranged, with a label), a delivered order with a
    return request (which rings the bell)."""
    from returns.tests.factories import delivered_order, open_return
    from shipping.tests.factories import arranged, order_to_ship

    to_ship = order_to_ship(shop)
    packages = arranged(to_ship)
    delivered = delivered_order(shop)
    request = open_return(delivered)
    return {"to_ship": to_ship, "package": packages[0], "delivered": delivered, "request": request}


def seller_pages(shop, world):
    s = shop.slug
    return {
        "orders": reverse("orders:list", kwargs={"shop": s}),
        "order": reverse("orders:detail", kwargs={"shop": s, "number": world["to_ship"].number}),
        "delivered order": reverse("orders:detail", kwargs={"shop": s, "number": world["delivered"].number}),
        "shipping": reverse("shipping:home", kwargs={"shop": s}),
        "tickets": reverse("shipping:tickets", kwargs={"shop": s}),
        "requests": reverse("returns:list", kwargs={"shop": s}),
        "request": reverse("returns:detail", kwargs={"shop": s, "pk": world["request"].pk}),
        "notifications": reverse("shops:notifications", kwargs={"shop": s}),
        "team": reverse("team:page", kwargs={"shop": s}),
        "api keys": reverse("api_keys:list", kwargs={"shop": s}),
        "webhooks": reverse("webhooks:list", kwargs={"shop": s}),
        "health": reverse("shop_health", kwargs={"shop": s}),
    }


def get(client, url, lang):
    with translation.override(lang):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_seller_pages_show_no_english_catalog_string(lang, catalogs_in_use, client, shop, seller, seller_world):
    client.force_login(seller)
    found = {}
    for name, url in seller_pages(shop, seller_world).items():
        english = untranslated(text_nodes(get(client, url, lang)), lang)
        if english:
            found[name] = english
    assert not found, f"{lang}: English left on the pages: {found}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_translated_string_really_shows(lang, catalogs_in_use, client, shop, seller, seller_world):
    """The catalogs are in use (a page in English everywhere would pass the test above)."""
    client.force_login(seller)
    html = get(client, reverse("returns:list", kwargs={"shop": shop.slug}), lang)
    with translation.override(lang):
        assert translation.gettext("Buyer requests") != "Buyer requests"
        assert translation.gettext("Buyer requests") in html
        assert translation.gettext("Log out") in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_anonymous_pages_and_the_buyer_page_show_no_english_catalog_string(lang, catalogs_in_use, client,
                                                                           seller_world):
    order = seller_world["delivered"]
    found = {}
    for name, url in {"login": reverse("login"), "password reset": reverse("password_reset"),
                      "find your order": reverse("returns_public:find")}.items():
        english = untranslated(text_nodes(get(client, url, lang)), lang)
        if english:
            found[name] = english
    with translation.override(lang):
        response = client.post(reverse("returns_public:find"), {"number": order.number, "contact": order.buyer_email},
                               HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 302
    english = untranslated(text_nodes(get(client, reverse("returns_public:order"), lang)), lang)
    if english:
        found["buyer's order page"] = english
    assert not found, f"{lang}: English left on the pages: {found}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_labels_and_slips_print_no_english_catalog_string(lang, catalogs_in_use, seller_world):
    from pypdf import PdfReader

    from shipping import labels
    from shipping.models import Package, PrintJob

    # A label prints in its destination's language (labels.label_language): ship this one to the language's market.
    country = {"vi": "VN", "th": "TH", "id": "ID", "es": "ES"}[lang]
    seller_world["to_ship"].__class__.objects.filter(pk=seller_world["to_ship"].pk).update(country=country)
    packages = Package.objects.filter(pk=seller_world["package"].pk)
    english = {}
    for kind in (PrintJob.Kind.LABEL, PrintJob.Kind.PACKING_SLIP):
        with translation.override(lang):
            pdf = labels.render(labels.packages_for_print(packages), kind=kind, size=PrintJob.Size.FOUR_BY_SIX)
        lines = {" ".join(line.split()) for page in PdfReader(io.BytesIO(pdf)).pages
                 for line in page.extract_text().splitlines()}
        if found := untranslated(lines, lang):
            english[kind] = found
    assert not english, f"{lang}: English on the label: {english}"


def test_javascript_catalog_serves_app_js_words(catalogs_in_use, client):
    with translation.override("vi"):
        js = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "overdue by %(time)s" in js
    assert "qu\\u00e1 h\\u1ea1n %(time)s" in js or "quá hạn %(time)s" in js
