"""The ``--html`` page of ``explain --verify``: one self-contained file, viewable with no network.

Per layer group (tensor names with their numeric indices folded into ``*``, such as
``blocks.*.mlp.fc1.weight``), an inline SVG made with matplotlib's SVG backend plots each tensor's observed
std against its promised std by depth. A click on a row of the table draws that tensor's histogram, from bin
counts embedded in the page, as an inline SVG. No script, style or font is fetched from anywhere.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import torch
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from initspec._verify.observe import named_tensors

if TYPE_CHECKING:
    from torch import nn

    from initspec.verify import InitCheck, TensorCheck

__all__ = ["HISTOGRAM_BINS", "layer_groups", "render_html", "write_html"]

HISTOGRAM_BINS: Final = 40
_INDEX: Final = re.compile(r"(?<=\.)\d+(?=\.)|^\d+(?=\.)")


def layer_groups(check: InitCheck) -> dict[str, list[TensorCheck]]:
    """The plotted tensors, grouped by name with numeric indices folded into ``*``, in model order.

    Plotted: every tensor with a promised std, and the weights (2 or more dimensions) with no verdict.
    """
    groups: dict[str, list[TensorCheck]] = {}
    for name, result in check.items():
        stats = result.stats
        if stats is None or stats.nonfinite or not math.isfinite(stats.std):
            continue
        if result.expected_std is not None or len(check.report[name].shape) >= 2:
            groups.setdefault(_INDEX.sub("*", name), []).append(result)
    return groups


def write_html(check: InitCheck, model: nn.Module, path: str) -> None:
    """Write the page for ``check`` of ``model`` to ``path``."""
    Path(path).write_text(render_html(check, model), encoding="utf-8")


def render_html(check: InitCheck, model: nn.Module) -> str:
    """The page: a summary, one std-by-depth plot per layer group, and the table with clickable histograms."""
    groups = layer_groups(check)
    plots = "\n".join(_figure(name, members, i) for i, (name, members) in enumerate(groups.items()))
    histograms = json.dumps(_histograms(check, model), allow_nan=False).replace("</", "<\\/")
    return _PAGE.format(
        title=html.escape(f"initspec verify: {check.report.module}"),
        summary=html.escape(check.summary()),
        plots=plots,
        rows="\n".join(_row(result) for result in check.values()),
        histograms=histograms,
    )


def _figure(name: str, members: list[TensorCheck], index: int) -> str:
    fig = Figure(figsize=(5.2, 2.6))
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    depth = list(range(len(members)))
    ax.plot(depth, [m.stats.std for m in members if m.stats], "o", color="#1f77b4", label="observed std")
    promised = [
        (d, m.expected_std) for d, m in zip(depth, members, strict=True) if m.expected_std is not None
    ]
    if promised:
        ax.plot(
            *zip(*promised, strict=True), "_", color="#d62728", markersize=14, mew=2, label="promised std"
        )
    failed = [(d, m.stats.std) for d, m in zip(depth, members, strict=True) if m.failed and m.stats]
    if failed:
        ax.plot(*zip(*failed, strict=True), "x", color="#d62728", markersize=9, label="failed")
    top = max([m.stats.std for m in members if m.stats] + [p for _, p in promised])
    ax.set_ylim(0, 1.25 * top if top > 0 else 1)
    ax.set_xlim(-0.5, len(members) - 0.5)
    if len(members) <= 12:
        ax.set_xticks(depth)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("depth (order in the model)")
    ax.set_ylabel("std")
    ax.set_title(name, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": f"group{index}"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return f'<figure class="plot">{_inline(buffer.getvalue())}</figure>'


def _inline(svg: str) -> str:
    """The ``<svg>`` element alone: no XML prolog, doctype, metadata or namespace URLs (HTML implies them)."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)


def _histograms(check: InitCheck, model: nn.Module) -> dict[str, Any]:
    tensors = named_tensors(model)
    out: dict[str, Any] = {}
    for name, result in check.items():
        stats = result.stats
        if stats is None or stats.numel == 0 or stats.nonfinite or not tensors[name].is_floating_point():
            continue
        low, high = stats.min, stats.max
        if math.isnan(low):  # normal draws are checked without their range
            low, high = (float(v) for v in torch.aminmax(tensors[name].detach()))
        if high <= low:
            out[name] = {"low": low, "high": high, "counts": [stats.numel]}
            continue
        counts = torch.histc(tensors[name].detach().float(), bins=HISTOGRAM_BINS, min=low, max=high)
        out[name] = {"low": low, "high": high, "counts": [int(c) for c in counts.tolist()]}
    return out


def _row(result: TensorCheck) -> str:
    cells = (result.name, result.initializer, result.expected, result.observed, result.verdict, result.reason)
    verdict = result.verdict.replace(" ", "-")
    inner = "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
    return f'<tr class="{verdict}" data-name="{html.escape(result.name)}">{inner}</tr>'


_PAGE: Final = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
.plots {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure.plot {{ margin: 0; border: 1px solid #ddd; }}
figure.plot svg {{ width: 460px; height: auto; }}
table {{ border-collapse: collapse; font-size: 12px; margin-top: 1em; }}
td, th {{ border-bottom: 1px solid #eee; padding: 2px 8px; text-align: left; }}
tr.fail td {{ background: #fde0e0; }} tr.pass td:nth-child(5) {{ color: #2a7a2a; }}
tr.unchecked td, tr.not-materialized td {{ color: #777; }}
tr:hover td {{ background: #eef4ff; cursor: pointer; }}
#histogram {{ position: sticky; top: 0; background: #fff; min-height: 1em; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{summary}</p>
<h2>Observed std against promised std, per layer group</h2>
<div class="plots">
{plots}
</div>
<h2>Tensors</h2>
<p>Click a row for its histogram (shown: the first failure that has one, else the first tensor).</p>
<div id="histogram"></div>
<table><thead><tr><th>tensor</th><th>initializer</th><th>expected</th><th>observed</th><th>verdict</th>
<th>reason</th></tr></thead><tbody>
{rows}
</tbody></table>
<script id="histogram-data" type="application/json">{histograms}</script>
<script>
const HIST = JSON.parse(document.getElementById("histogram-data").textContent);
const NS = "http" + "://www.w3.org/2000/svg";
function draw(name) {{
  const box = document.getElementById("histogram");
  box.textContent = "";
  const h = HIST[name];
  if (!h) {{ box.textContent = name + ": no histogram (not measured, not floating, or not finite)"; return; }}
  const w = 480, ht = 160, top = Math.max(...h.counts, 1), bw = w / h.counts.length;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", ht + 34);
  h.counts.forEach((c, i) => {{
    const r = document.createElementNS(NS, "rect");
    const hh = ht * c / top;
    r.setAttribute("x", i * bw); r.setAttribute("y", ht - hh);
    r.setAttribute("width", Math.max(bw - 1, 1)); r.setAttribute("height", hh);
    r.setAttribute("fill", "#1f77b4"); svg.appendChild(r);
  }});
  const t = document.createElementNS(NS, "text");
  t.setAttribute("x", 0); t.setAttribute("y", ht + 20); t.setAttribute("font-size", "12");
  t.textContent = name + ": " + h.low.toPrecision(4) + " .. " + h.high.toPrecision(4);
  svg.appendChild(t); box.appendChild(svg);
}}
document.querySelectorAll("tr[data-name]").forEach(r => r.addEventListener("click", () => draw(r.dataset.name)));
const rows = [...document.querySelectorAll("tr[data-name]")].filter(r => HIST[r.dataset.name]);
const first = rows.find(r => r.classList.contains("fail")) || rows[0];
if (first) draw(first.dataset.name);
</script>
</body></html>
"""
