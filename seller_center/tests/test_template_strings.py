"""CI check: every word a seller or a buyer reads in a template is marked for translation.

Each template (staff admin's excepted) is cut into Django's own tokens; whatever is inside
{% translate %}, {% blocktranslate %}, {{ }}, a tag or a comment is set aside, and the rest is read
as HTML. A text node (outside <script>, <style> and <kbd>), or an attribute people read (aria-label, title, placeholder, alt, hx-confirm,
a button's value), that still holds a letter is an offender, listed as file:line.
"""

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Attributes whose value is read by people (screen readers included).
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "hx-confirm", "aria-description"}
# What a Django token leaves behind in the text: a mark that is not a letter, set apart by spaces so
# that `<tr{% if x %} class="late"{% endif %}>` still reads as a tag with its attributes.
HOLE = "\x00"
# Not page text: code, styles, and the keys of a keyboard shortcut (<kbd>j</kbd> is the key, in any language).
RAW = ("script", "style", "kbd")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def staff_only(path, source):
    """Staff admin pages may stay English."""
    rel = path.relative_to(TEMPLATES)
    return rel.parts[0] == "admin" or re.search(r"{%\s*extends\s+[\"']admin/", source) is not None


def has_words(text):
    text = ENTITY.sub(" ", text).replace(HOLE, " ")
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def shown(text):
    """The offending text as the report shows it: a Django token is an ellipsis."""
    text = re.sub(f"{HOLE}( {HOLE})*", "…", " ".join(text.split()))
    return re.sub(r"^[… ]+|[… ]+$", "", text) if has_words(text.replace("…", "")) else text


def unmarked_text(source):
    """The template with everything that is not plain, untranslated text replaced by holes.

    Line breaks are kept, so the HTML parser's positions are the template's lines.
    """
    out = []
    skip_until = None  # the closing tag of a block whose content is not page text
    for token in Lexer(source).tokenize():
        kind, contents = token.token_type, token.contents
        if skip_until:
            if kind == TokenType.BLOCK and contents.split()[:1] == [skip_until]:
                skip_until = None
            out.append(f" {HOLE} " + "\n" * _newlines(token, kind))
            continue
        if kind == TokenType.TEXT:
            out.append(contents)
            continue
        word = contents.split()[0] if contents.split() else ""
        if kind == TokenType.BLOCK and word in ("blocktranslate", "blocktrans"):
            skip_until = "endblocktranslate" if word == "blocktranslate" else "endblocktrans"
        elif kind == TokenType.BLOCK and word in ("comment", "verbatim"):
            skip_until = "end" + word
        out.append(f" {HOLE} ")
    return "".join(out)


def _newlines(token, kind):
    return token.contents.count("\n") if kind == TokenType.TEXT else 0


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.raw = 0  # inside <script>, <style> or <kbd>
        self.found = []  # (line, text)

    def handle_starttag(self, tag, attrs):
        if tag in RAW:
            self.raw += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            read = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and attrs.get("type") in ("submit", "button", "reset"))
            if read and value and has_words(value):
                self.found.append((self.getpos()[0], f'{name}="{shown(value)}"'))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in RAW:
            self.raw -= 1

    def handle_endtag(self, tag):
        if tag in RAW and self.raw:
            self.raw -= 1

    def handle_data(self, data):
        if not self.raw and has_words(data):
            # The line of the first word, not of the whitespace or tags before it.
            first = next(i for i, ch in enumerate(data) if unicodedata.category(ch).startswith("L"))
            line = self.getpos()[0] + data[:first].count("\n")
            self.found.append((line, shown(data)))


def offenders(path):
    source = path.read_text(encoding="utf-8")
    if staff_only(path, source):
        return []
    reader = _Reader()
    reader.feed(unmarked_text(source))
    reader.close()
    rel = path.relative_to(TEMPLATES.parent)
    return [f"{rel}:{line}: {text}" for line, text in reader.found]


def template_files():
    return sorted(p for p in TEMPLATES.rglob("*") if p.is_file() and p.suffix in (".html", ".txt"))


def test_every_template_string_is_marked_for_translation():
    found = [o for path in template_files() for o in offenders(path)]
    assert not found, "Text outside {% translate %}/{% blocktranslate %}:\n" + "\n".join(found)


def test_the_check_finds_unmarked_text_and_attributes():
    reader = _Reader()
    reader.feed(unmarked_text(
        '{% load i18n %}<p>{% translate "Saved" %}</p>\n'
        "<p>Saved {{ n }}</p>\n"
        '<a aria-label="Open {{ x }}">{% blocktranslate %}Open {{ x }}{% endblocktranslate %}</a>\n'
        "<p>{{ a }} · {{ b }} &nbsp; 12 %</p><script>var t = 'not page text';</script>\n"
        "{% comment %}a note{% endcomment %}{# another #}<b>{% if x %}\nLate{% endif %}</b>"))
    assert reader.found == [(2, "Saved"), (3, 'aria-label="Open"'), (6, "Late")]
