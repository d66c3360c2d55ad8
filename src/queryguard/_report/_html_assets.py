"""The inline style sheet and script of the HTML report, and the content security policy that allows them.

The page loads nothing from elsewhere. Its one script only filters what is already on the page (the summary
chips); with JavaScript off every finding, bar, plan and statement is still there. The policy lets no other
script run: should a value ever escape its escaping, a browser still refuses to execute it.
"""

from __future__ import annotations

import base64
import hashlib

#: Bar colours, one per finding of a unit (cycled); statements of no finding are grey.
PALETTE_SIZE = 8

CSS = """
:root { --fg: #1f2328; --muted: #656d76; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --error: #cf222e; --warning: #9a6700; --info: #0969da; --code: #f6f8fa; --none: #8c959f;
  --c0: #0969da; --c1: #bf3989; --c2: #1a7f37; --c3: #bc4c00; --c4: #8250df; --c5: #0a7b83;
  --c6: #9a6700; --c7: #cf222e; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --panel: #161b22; --line: #30363d;
    --error: #ff7b72; --warning: #d29922; --info: #58a6ff; --code: #161b22; --none: #6e7681;
    --c0: #58a6ff; --c1: #f778ba; --c2: #3fb950; --c3: #f0883e; --c4: #bc8cff; --c5: #39c5cf;
    --c6: #d29922; --c7: #ff7b72; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0; overflow-wrap: anywhere; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem;
  overflow-x: auto; margin: .5rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .5rem 0 1rem; }
.summary b { font-size: 1.2rem; }
.kinds { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; margin: 0 0 1.5rem; }
.chip { font: inherit; font-size: .85rem; border: 1px solid var(--line); border-radius: 999px;
  padding: .1rem .7rem; color: var(--fg); background: var(--panel); }
.chip .swatch { background: var(--info); }
.chip.error .swatch { background: var(--error); }
.chip.warning .swatch { background: var(--warning); }
html.js .chip { cursor: pointer; }
html.js .chip:hover { border-color: var(--muted); }
html:not(.js) .chip-all { display: none; }
.chip[aria-pressed="true"] { color: var(--bg); background: var(--fg); border-color: var(--fg); }
.swatch { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin-right: .35rem;
  vertical-align: -.05rem; background: var(--none); }
.unit { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 1.25rem; overflow: hidden; }
.unit > header { background: var(--panel); padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
.finding { padding: .75rem 1rem; border-bottom: 1px solid var(--line); border-left: 4px solid var(--info); }
.finding.error { border-left-color: var(--error); }
.finding.warning { border-left-color: var(--warning); }
.badge { display: inline-block; border-radius: 999px; padding: 0 .6rem; font-size: .8rem; font-weight: 600;
  color: #fff; background: var(--info); white-space: nowrap; }
.badge.error { background: var(--error); }
.badge.warning { background: var(--warning); }
.message { font-weight: 600; margin-left: .35rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .15rem 1rem; margin: .5rem 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.site { overflow-wrap: break-word; word-break: normal; }
.fix { margin: .5rem 0; }
details > summary { cursor: pointer; color: var(--muted); }
.timeline { margin: 0; padding: .6rem 1rem .4rem; border-bottom: 1px solid var(--line); }
.timeline figcaption { font-size: .85rem; margin-bottom: .4rem; }
.lane { display: grid; grid-template-columns: 15rem minmax(0, 1fr); gap: .6rem; align-items: center;
  margin: .15rem 0; }
.lane-label { font-size: .8rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.track { position: relative; height: .95rem; background: var(--panel); border-radius: 3px; }
.bar { position: absolute; top: 0; bottom: 0; min-width: 1px; display: block; background: var(--none); }
.c0 { background: var(--c0); } .c1 { background: var(--c1); } .c2 { background: var(--c2); }
.c3 { background: var(--c3); } .c4 { background: var(--c4); } .c5 { background: var(--c5); }
.c6 { background: var(--c6); } .c7 { background: var(--c7); }
html.filtered .bar { opacity: .15; }
html.filtered .bar.hit { opacity: 1; box-shadow: 0 0 0 1px var(--fg); z-index: 1; }
.axis { position: relative; height: 1.1rem; margin-left: 15.6rem; font-size: .75rem; color: var(--muted); }
.axis span { position: absolute; top: 0; transform: translateX(-50%); white-space: nowrap; }
.axis span:first-child { transform: none; }
.axis span:last-child { transform: translateX(-100%); }
@media (max-width: 40rem) { .lane { grid-template-columns: 1fr; gap: 0; } .axis { margin-left: 0; } }
ul.plan, ul.plan ul { list-style: none; margin: 0; padding: 0 0 0 1.2rem; }
ul.plan { padding-left: 0; margin: .4rem 0; }
ul.plan ul { border-left: 1px dashed var(--line); margin-left: .35rem; }
ul.plan li { margin: .15rem 0; }
ul.plan details > summary { color: var(--fg); }
ul.plan .leaf { padding-left: 1.05rem; }
.node-title { font-weight: 600; overflow-wrap: anywhere; }
.node-facts { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
.node-facts code { font-size: .8rem; }
.statements { padding: .6rem 1rem; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .5rem; border-top: 1px solid var(--line); }
td.num { text-align: right; white-space: nowrap; }
td code { white-space: pre-wrap; overflow-wrap: anywhere; }
td code.site { overflow-wrap: break-word; }
tr:target { outline: 2px solid var(--info); }
.empty { padding: .6rem 1rem; margin: 0; }
footer { margin-top: 2rem; font-size: .85rem; }
"""

# Plain ES5 on purpose: it runs in any browser a developer has, with nothing to build.
SCRIPT = """
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  var chips = all("button.chip"), findings = all("article.finding"), units = all("section.unit");
  var bars = all(".bar"), status = document.getElementById("filter-status");
  function show(chip) {
    var kind = chip ? chip.getAttribute("data-kind") : "", ids = {};
    chips.forEach(function (c) {
      c.setAttribute("aria-pressed", String(c === chip || (!kind && !c.getAttribute("data-kind"))));
    });
    findings.forEach(function (f) {
      var match = !kind || f.getAttribute("data-kind") === kind;
      f.hidden = !match;
      if (kind && match) { ids[f.id] = true; }
    });
    units.forEach(function (u) { u.hidden = !!kind && !u.querySelector("article.finding:not([hidden])"); });
    bars.forEach(function (b) {
      var hit = !!kind && (b.getAttribute("data-f") || "").split(" ").some(function (id) { return ids[id]; });
      b.classList.toggle("hit", hit);
    });
    root.classList.toggle("filtered", !!kind);
    if (status) { status.textContent = kind ? "Showing only: " + chip.getAttribute("data-label") : ""; }
  }
  chips.forEach(function (chip) {
    chip.addEventListener("click", function () {
      var again = chip.getAttribute("aria-pressed") === "true";
      show(again || !chip.getAttribute("data-kind") ? null : chip);
    });
  });
})();
"""


def _policy() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


#: Only the script above may run, and nothing may be loaded.
POLICY = _policy()
