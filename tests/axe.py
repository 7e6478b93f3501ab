"""axe-core accessibility checks for Playwright pages.

axe-core is vendored so the tests need no network and no CDN: tests/vendor/axe.min.js is
package/axe.min.js of `npm pack axe-core@4` (4.14.1, registry integrity
sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==),
MPL-2.0: tests/vendor/axe-core.LICENSE.txt (bundled parts: axe-core.LICENSE-3RD-PARTY.txt).
To update: `cd /tmp && npm pack axe-core@4 && tar xzf axe-core-*.tgz` and copy the same files.
"""

from pathlib import Path

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG2_A_AA = ["wcag2a", "wcag2aa"]

_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.map(String).join(' '), summary: n.failureSummary || ''})),
  }));
}"""


def run_axe(page, tags=WCAG2_A_AA):
    """Inject axe-core into `page` (once) and return its violations for `tags`, each a dict
    {id, impact, help, nodes: [{target, summary}]}. An empty list means none were found."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # does not govern; add_script_tag would insert an inline <script> the CSP refuses.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(_RUN, list(tags))


def format_violations(violations):
    """A readable assertion message: one line per violation, one indented line per node."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"]:
            summary = " ".join(n["summary"].split())
            lines.append(f"    {n['target']}  — {summary[:300]}")
    return "\n".join(lines)


def assert_no_violations(page, tags=WCAG2_A_AA):
    violations = run_axe(page, tags)
    assert not violations, f"axe-core ({', '.join(tags)}) on {page.url}:\n" + format_violations(violations)
