"""Page tests fetch twice (STYLE.md, Tests): the whole page a browser without JS gets, and the
HTMX partial the page swaps in. These helpers make both requests and check what each must be:

- the full page has the shell (<html>, the top bar, <main id="main">);
- the partial has no shell and starts with the element the page swaps (hx-swap="outerHTML"),
  whose DOM id is the partial's name;
- a view that answers HX-Request differently says so with `Vary: HX-Request`, so that no cache
  hands a fragment to a browser that asked for the page (or the page to htmx).

htmx sends `HX-Target: <id>` with each request; the views of lists answer with their rows only
when that target is theirs, so the partial request names its own id as the target.
"""

import re

HX = {"HX-Request": "true"}


def hx(target=None, **more):
    """Headers of an htmx request (hx-get / hx-post), aimed at `target` when given."""
    return {**HX, **({"HX-Target": target} if target else {}), **more}


def _text(response):
    return response.content.decode()


def assert_vary_hx(response):
    vary = [v.strip().lower() for v in response.get("Vary", "").split(",")]
    assert "hx-request" in vary, f"no Vary: HX-Request on {response.wsgi_request.path} (Vary: {response.get('Vary')!r})"


def assert_full_page(response, status=200):
    """The page with its shell; returns its text."""
    assert response.status_code == status, (response.status_code, _text(response)[:500])
    body = _text(response)
    assert body.lstrip().lower().startswith("<!doctype html>"), body[:200]
    assert "<html" in body and 'id="main"' in body and "</html>" in body, "not the whole page"
    return body


def assert_fragment(response, dom_id, status=200):
    """An htmx fragment: no shell, and its first element is the one with `dom_id` (what the page
    replaces). Returns its text."""
    assert response.status_code == status, (response.status_code, _text(response)[:500])
    body = _text(response)
    assert not re.search(r"<(html|head|body)[\s>]", body), f"a fragment with the shell: {body[:200]}"
    assert 'id="main"' not in body and 'class="topbar"' not in body, "a fragment with the page's chrome"
    first = re.match(r"\s*<[a-zA-Z][\w-]*\b[^>]*>", body)
    assert first and re.search(rf'\bid="{re.escape(dom_id)}"', first.group(0)), (
        f"the fragment does not start with #{dom_id}: {body.lstrip()[:200]!r}")
    return body


def fetch_both(client, url, partial_id, *, data=None, status=200, target=None, vary=True):
    """GET `url` as a browser and as htmx; return (full, partial) responses.

    `partial_id` is the DOM id the htmx request swaps (sent as HX-Target unless `target`
    says otherwise). With partial_id=None the view has no partial: the htmx request must still
    get the same whole page (a sensible answer, never a broken fragment), and `vary` defaults
    to not being required.
    """
    full = client.get(url, data)
    partial = client.get(url, data, headers=hx(target or partial_id))
    assert_full_page(full, status)
    if partial_id is None:
        assert_full_page(partial, status)
    else:
        assert_fragment(partial, partial_id, status)
        if vary:
            assert_vary_hx(full)
            assert_vary_hx(partial)
    return full, partial


def texts(*responses):
    """The decoded bodies, for `assert x in body for body in texts(full, partial)`."""
    return [_text(r) for r in responses]


def assert_redirect(response, to=None):
    """A non-HTMX POST that worked: a redirect (post/redirect/get), optionally to `to`."""
    assert response.status_code == 302, (response.status_code, _text(response)[:500])
    if to is not None:
        assert response["Location"] == to, response["Location"]
    return response["Location"]
