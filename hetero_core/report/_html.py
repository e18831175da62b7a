"""``report.html``: the pack for a person who would rather look than read a CSV.

One self-contained page (no script, no network: a Content-Security-Policy forbids both, and every image
is inline SVG) that a medicinal chemist, a QA lead or an auditor reads on screen or on paper: what was
run, what came out, whether the PASS-rate beats chance, whether the decoys were hard enough to mean
anything, and the molecules where the model was fooled worst, drawn beside the decoys it preferred.

Rendered from ``manifest.json`` and ``metrics.json`` only (plus an optional calibration result), like
``index.md``, so it is as deterministic as they are and its size does not grow with the input: lists are
the metrics' top-N, plots are histograms. Every piece of text that comes from a customer (ids, SMILES,
file and column names, reasons and details) is HTML-escaped and clipped. A metrics block that is absent
or malformed gives "n/a" or a note in its section, never an exception: the report must never be the
reason a finished audit fails to become a pack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hetero_core.audit import (
    EASY_AUC_ONLY,
    EASY_MAX,
    HARD_AUC_SIGNAL,
    MEDIAN_SIMILARITY_MIN,
    MIN_HARD_PAIRS,
)
from hetero_core.layout import CHECKSUMS, DECOYS, INDEX, MANIFEST, METRICS, REPORT, SUMMARY
from hetero_core.reasons import Status, Verdict
from hetero_core.report._decision import DECISION_CSS, decision_box, limitations_section, methods_section
from hetero_core.report._index_md import FINDING_TEXT, INTERPRETATION_TEXT, p_number, p_text
from hetero_core.report._markup import (
    _BIN_ORDER,
    _CSS,
    _REASON_TEXT,
    MAX_CALIBRATION_RUNS,
    MAX_INPUTS,
    MAX_PROBLEM_ROWS,
    MAX_REASONS,
    MAX_SERVICE_IDS,
    MAX_TOP_DECOYS,
    MAX_WORST_MOLECULES,
    SIGNIFICANCE_LEVEL,
    STRONG_SIGNIFICANCE_LEVEL,
    _count,
    _e,
    _facts,
    _histogram,
    _int_text,
    _map,
    _num,
    _number,
    _param,
    _pct,
    _plot,
    _reachable,
    _section,
    _seq,
    _table,
)
from hetero_core.report._model import model_text
from hetero_core.report._molecules import _problems_section, _worst_section
from hetero_core.report._plots import (
    BinAuc,
    auc_by_bin_svg,
    matplotlib_version,
    similarity_histogram_svg,
    slack_histogram_svg,
)
from hetero_core.report._power import power_section

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAX_PROBLEM_ROWS", "MAX_TOP_DECOYS", "MAX_WORST_MOLECULES", "render_report"]


# The report shows at most this much, whatever the metrics hold: its size must not follow the input's.
def _header(manifest: Mapping[str, Any], metrics: Mapping[str, Any], calibration: bool = False) -> str:
    inputs = _seq(manifest.get("inputs"), MAX_INPUTS)
    name = _map(inputs[0]).get("name") if inputs else None
    engine = _map(manifest.get("engine"))
    counts = _map(metrics.get("counts"))
    verdicts = _map(metrics.get("verdicts"))
    realism = _map(metrics.get("realism"))
    interpretation = realism.get("interpretation")
    n_judged = _count(metrics.get("n_judged"))
    lines = [
        "<header>",
        f"<h1>HETERO-2 {'calibration' if calibration else 'audit'} report</h1>",
        f'<p class="lead">Input <code>{_e(name)}</code> · created {_e(manifest.get("created_at"))} by '
        f"{_e(engine.get('name', 'hetero2'))} {_e(engine.get('version'))}</p>",
        decision_box(manifest, metrics),
        '<div class="box">',
        f"<p>{_int_text(counts.get('total'))} rows: {_int_text(counts.get(Status.OK))} audited (OK), "
        f"{_int_text(counts.get(Status.SKIP))} skipped (SKIP), {_int_text(counts.get(Status.ERROR))} failed "
        "(ERROR).</p>",
    ]
    if n_judged:
        lines.append(
            f"<p>PASS: <b>{_int_text(verdicts.get(Verdict.PASS))} of {n_judged:,}</b> judged molecules "
            f"({_pct(metrics.get('pass_rate'))}); chance alone would give "
            f"{_pct(metrics.get('expected_pass_rate_by_chance'))} ({_e(_significance_words(metrics))}).</p>"
        )
    else:
        lines.append("<p>No molecule was judged, so there is no PASS-rate.</p>")
    if isinstance(interpretation, str):
        lines.append(
            f"<p>Decoy realism, measured: <b>{_e(interpretation)}</b> — "
            f"{_e(INTERPRETATION_TEXT.get(interpretation, ''), 600)}.</p>"
        )
    lines += ["</div>", "</header>"]
    return "\n".join(lines)


def _nav(calibration: bool) -> str:
    items = [
        ("methods", "Methods"),
        ("limitations", "Limitations of this run"),
        ("facts", "Run facts"),
        ("rows", "Rows and reasons"),
        ("pass-rate", "PASS-rate against chance"),
        ("slack", "Slack distribution"),
        ("realism", "Decoy realism"),
        *([("calibration", "Known-bad / known-good separation")] if calibration else []),
        ("worst", "Where the model was fooled worst"),
        ("problems", "SKIP and ERROR rows"),
    ]
    links = "".join(f'<li><a href="#{anchor}">{title}</a></li>' for anchor, title in items)
    return f"<nav><ol>{links}</ol></nav>"


def _facts_section(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    engine = _map(manifest.get("engine"))
    runtime = _map(manifest.get("runtime"))
    parameters = _map(manifest.get("parameters")) or _map(metrics.get("config"))
    seeds = _map(manifest.get("seeds"))
    contracts = _map(manifest.get("contracts"))
    facts = [
        ("Created", _e(manifest.get("created_at"))),
        (
            "Engine",
            f"{_e(engine.get('name'))} {_e(engine.get('version'))}, commit <code>{_e(engine.get('git_commit'))}</code>",
        ),
        (
            "Runtime",
            f"Python {_e(runtime.get('python'))}, RDKit {_e(runtime.get('rdkit'))}, NumPy {_e(runtime.get('numpy'))}; "
            f"plots drawn with matplotlib {_e(matplotlib_version())}",
        ),
        ("Model", model_text(manifest)),
        ("Scores", _e(parameters.get("scorer"))),
        ("Seeds", f"run seed {_e(seeds.get('run_seed'))}, per-molecule seed from {_e(seeds.get('seed_by'))}"),
        ("Contracts", _e(", ".join(f"{k} {_param(v)}" for k, v in sorted(contracts.items())))),
    ]
    service = _map(manifest.get("service"))
    if service:
        ids = sorted(service.items())[:MAX_SERVICE_IDS]
        facts.append(("Service", "<br>".join(f"{_e(k)}: <code>{_e(v)}</code>" for k, v in ids)))
    parts = [_facts(facts), "<h3>Inputs</h3>"]
    input_rows = []
    for entry in _seq(manifest.get("inputs"), MAX_INPUTS):
        item = _map(entry)
        columns = _map(item.get("columns"))
        column_text = ", ".join(f"{_e(k)}={_e(v)}" for k, v in sorted(columns.items()) if v is not None)
        input_rows.append(
            [
                _e(item.get("role")),
                f"<code>{_e(item.get('name'))}</code>",
                _e(item.get("format")),
                _int_text(item.get("rows")),
                f"<code>{_e(item.get('sha256'))}</code>",
                column_text or "—",
            ]
        )
    if input_rows:
        parts.append(
            _table(
                ["role", "file", "format", "rows", "sha256 of the file as received", "columns"],
                input_rows,
                [False, False, False, True, False, False],
            )
        )
    else:
        parts.append('<p class="note">The manifest names no input.</p>')
    parts.append("<h3>Parameters</h3>")
    if parameters:
        rows = [[f"<code>{_e(k)}</code>", _e(_param(v))] for k, v in sorted(parameters.items())]
        parts.append(_table(["parameter", "value"], rows))
    return _section("facts", "Run facts", parts)


def _rows_section(metrics: Mapping[str, Any]) -> str:
    counts = _map(metrics.get("counts"))
    verdicts = _map(metrics.get("verdicts"))
    decoys = _map(metrics.get("decoys"))
    coverage = _map(metrics.get("scores_coverage"))
    parts = [
        "<p>Every input row has exactly one outcome: OK (audited), SKIP (a fact about the data, with a reason) "
        "or ERROR (a fault of ours or of the environment, with a reason). Nothing is dropped silently.</p>",
        _table(
            ["OK", "SKIP", "ERROR", "total", "PASS", "FAIL", "not judged"],
            [
                [
                    _int_text(counts.get(Status.OK)),
                    _int_text(counts.get(Status.SKIP)),
                    _int_text(counts.get(Status.ERROR)),
                    _int_text(counts.get("total")),
                    _int_text(verdicts.get(Verdict.PASS)),
                    _int_text(verdicts.get(Verdict.FAIL)),
                    _int_text(verdicts.get(Verdict.SKIP)),
                ]
            ],
            [True] * 7,
        ),
    ]
    reasons = [_map(r) for r in _seq(metrics.get("top_reasons"), MAX_REASONS)]
    if reasons:
        rows = [
            [
                f'<code class="reason">{_e(r.get("reason"))}</code>',
                _int_text(r.get("count")),
                _e(_REASON_TEXT.get(str(r.get("reason")), "")),
            ]
            for r in reasons
        ]
        parts.append(_table(["reason", "rows", "what it means"], rows, [False, True, False]))
    else:
        parts.append("<p>No row was skipped or failed.</p>")
    parts.append(
        f"<p>Decoys: {_num(decoys.get('mean_per_molecule'), 1)} per molecule on average "
        f"(asked for {_int_text(decoys.get('k'))}); {_pct(decoys.get('share_reaching_k'))} of the "
        f"{_int_text(decoys.get('molecules'))} molecules that reached decoy generation got all of them. "
        f"Scores: {_e(coverage.get('mode'))}; {_pct(coverage.get('decoy_coverage'))} of "
        f"{_int_text(coverage.get('decoys_generated'))} decoys scored"
        + (
            f"; {_int_text(coverage.get('molecules_missing_original_score'))} originals without a score"
            if _count(coverage.get("molecules_missing_original_score"))
            else ""
        )
        + ".</p>"
    )
    return _section("rows", "Rows and reasons", parts)


def _significance_words(metrics: Mapping[str, Any]) -> str:
    """Both tails in one phrase (hetero_audit.v3); a v2 pack has only the upper tail."""
    block = _map(metrics.get("significance"))
    if not block:
        return f"{p_text(_number(metrics.get('pass_rate_p_value')))} for at least this many PASS by chance"
    return (
        f"better than chance: {p_text(_number(block.get('p_better_than_chance')))}; "
        f"worse than chance: {p_text(_number(block.get('p_worse_than_chance')))}"
    )


def _pass_rate_words(metrics: Mapping[str, Any]) -> str:
    n_judged = _count(metrics.get("n_judged")) or 0
    n_pass = _count(_map(metrics.get("verdicts")).get(Verdict.PASS)) or 0
    rate = _number(metrics.get("pass_rate"))
    expected = _number(metrics.get("expected_pass_rate_by_chance"))
    block = _map(metrics.get("significance"))
    upper = _number(block.get("p_better_than_chance", metrics.get("pass_rate_p_value")))
    lower = _number(block.get("p_worse_than_chance"))
    if not n_judged or rate is None:
        return "<p>No molecule was judged (every row was SKIP or ERROR), so there is no PASS-rate to test.</p>"
    text = [
        f"<p>{n_pass:,} of {n_judged:,} judged molecules PASSed ({_pct(rate)}). A molecule PASSes when the model "
        "ranks it above (nearly) all of its rewired decoys, by more than chance allows."
    ]
    if expected is not None:
        text.append(
            f" A model that cannot tell a molecule from its decoys would PASS about {_pct(expected)} of them "
            f"(about {expected * n_judged:,.1f} molecules) by luck alone: with k decoys, about 1 in k + 1."
        )
    text.append("</p>\n<p>")
    if upper is None:
        text.append("The probability of this many PASSes by chance was not recorded.")
    elif upper < STRONG_SIGNIFICANCE_LEVEL:
        text.append(
            f"The probability of {n_pass:,} or more PASSes by luck is {p_number(upper)}: far too small to be "
            "luck. <b>The model ranks real molecules above their decoys more often than chance.</b>"
        )
    elif upper < SIGNIFICANCE_LEVEL:
        text.append(
            f"The probability of {n_pass:,} or more PASSes by luck is {p_number(upper)}, below the conventional "
            f"{SIGNIFICANCE_LEVEL:g}: <b>evidence that the model beats chance</b>, though not overwhelming."
        )
    elif lower is not None and lower < SIGNIFICANCE_LEVEL:
        text.append(
            f"The probability of {n_pass:,} or fewer PASSes by luck is {p_number(lower)}: <b>the model PASSes "
            "fewer molecules than chance would</b>. It prefers the rewired decoys to the real molecules, a finding "
            "in itself (is the score direction right? see <code>--score-direction</code>)."
        )
    elif n_pass == 0:
        text.append(
            "No molecule PASSed. <b>There is no evidence that the model reads structure rather than composition.</b>"
        )
    else:
        text.append(
            f"The probability of {n_pass:,} or more PASSes by luck is {p_number(upper)}: luck alone could give "
            "this PASS-rate. <b>There is no evidence that the model reads structure rather than composition.</b>"
        )
        if expected is not None and rate < expected:
            text.append(" It PASSes even fewer molecules than luck would.")
    text.append("</p>")
    return "".join(text)


def _pass_rate_section(metrics: Mapping[str, Any]) -> str:
    rows = [
        ["molecules judged", _int_text(metrics.get("n_judged"))],
        ["PASS-rate", _pct(metrics.get("pass_rate"))],
        ["expected PASS-rate by chance", _pct(metrics.get("expected_pass_rate_by_chance"))],
        ["P(at least this many PASS by chance)", _e(p_text(_number(metrics.get("pass_rate_p_value"))))],
        ["P(at most this many PASS by chance)", _e(p_text(_number(metrics.get("pass_rate_p_value_lower"))))],
        ["finding", _e(FINDING_TEXT.get(str(_map(metrics.get("significance")).get("finding")), "n/a"))],
    ]
    return _section(
        "pass-rate",
        "PASS-rate against chance",
        [
            _pass_rate_words(metrics),
            _table(["", "value"], rows, [False, True]),
            '<p class="note">Both tails are exact Poisson-binomial probabilities: each molecule PASSes by chance with '
            "a probability known from its number of scored decoys. Each tail is one-sided at 0.05.</p>",
        ],
    )


def _slack_section(metrics: Mapping[str, Any]) -> str:
    slack = _map(metrics.get("slack"))
    parts = [
        "<p>Slack = AUC − gate for each judged molecule: how far the original's rank among its decoys lies above "
        "(PASS, slack ≥ 0) or below (FAIL, slack &lt; 0) what chance allows. AUC 1 means the original beat every "
        "decoy.</p>",
    ]
    histogram = _reachable(_histogram(_map(metrics.get("slack_histogram")), "edges"), _number(slack.get("max")))
    if not _count(metrics.get("n_judged")):
        parts.append('<p class="note">No judged molecule: no slack to plot.</p>')
    elif histogram is None:
        parts.append('<p class="note">No slack histogram in the metrics.</p>')
    else:
        parts.append(
            _plot(
                slack_histogram_svg,
                *histogram,
                caption="Judged molecules per slack bin (0.1 wide). Blue: PASS; orange: FAIL.",
            )
        )
    keys = ("min", "p25", "median", "mean", "p75", "max")
    parts.append(_table(list(keys), [[_num(slack.get(k)) for k in keys]], [True] * len(keys)))
    return _section("slack", "Slack distribution", parts)


def _realism_words(realism: Mapping[str, Any]) -> str:
    interpretation = realism.get("interpretation")
    bins = _map(realism.get("bins"))
    hard, easy = _map(bins.get("hard")), _map(bins.get("easy"))
    hard_auc, easy_auc = _num(hard.get("auc")), _num(easy.get("auc"))
    hard_pairs = _int_text(hard.get("n_pairs"))
    bounds = [_number(b) for b in _seq(hard.get("range"), 2)]
    window = f"{_num(bounds[0], 2)}–{_num(bounds[1], 2)}" if len(bounds) == 2 else "the hard window"
    interval = [_number(b) for b in _seq(hard.get("auc_ci95"), 2)]
    ci = f" (95% interval {_num(interval[0])}–{_num(interval[1])}, resampling molecules)" if len(interval) == 2 else ""
    median = _num(realism.get("median_similarity"))
    measured = f"On {hard_pairs} hard pairs (similarity {window}) the hard-pair AUC is {hard_auc}{ci}"
    if interpretation == "HARD_PAIR_AUC_ABOVE_THRESHOLD":
        return (
            f"<p><b>Hard-pair AUC above {HARD_AUC_SIGNAL:g}.</b> {measured}: taken one pair at a time, the original "
            "outscores a close look-alike more often than not. This counts pairs; whether molecules PASS is the "
            "PASS-rate above.</p>"
        )
    if interpretation == "HARD_PAIR_AUC_UNCERTAIN":
        return (
            f"<p><b>Hard-pair AUC uncertain.</b> {measured}; the interval straddles {HARD_AUC_SIGNAL:g}, so these "
            "data cannot say whether the model separates real molecules from close look-alikes.</p>"
        )
    if interpretation == "HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD":
        text = (
            f"<p><b>Hard-pair AUC not above {HARD_AUC_SIGNAL:g}.</b> {measured}: no sign that the model tells real "
            "molecules from look-alikes with the same atoms."
        )
        if realism.get("easy_only") is True:
            text += (
                f" It does beat easy decoys (AUC {easy_auc} > {EASY_AUC_ONLY:g}), which differ a lot: the pattern "
                "of a model that reacts to composition and gross shape, not to structure."
            )
        return text + "</p>"
    if interpretation == "DECOYS_TOO_EASY_TO_JUDGE":
        return (
            f"<p><b>Decoys too easy to judge.</b> The median similarity of decoys to their originals "
            f"is {median} (a conclusion needs at least {MEDIAN_SIMILARITY_MIN:g}) and there are {hard_pairs} hard "
            f"pairs (at least {MIN_HARD_PAIRS} needed). Whatever the AUC, these decoys cannot show whether the "
            "model reads structure. Audit more molecules, or larger ones, or use hard mode (--hard-mode).</p>"
        )
    if isinstance(interpretation, str) and interpretation in INTERPRETATION_TEXT:  # a hetero_audit.v2 pack
        return f"<p><b>{_e(interpretation)}</b>: {_e(INTERPRETATION_TEXT[interpretation])}.</p>"
    return '<p class="note">The metrics hold no realism interpretation.</p>'


def _realism_section(metrics: Mapping[str, Any]) -> str:
    realism = _map(metrics.get("realism"))
    bins = _map(realism.get("bins"))
    parts = [
        "<p>AUC here is the share of (original, decoy) pairs in which the original scored higher (ties count "
        "half): 0.5 is chance, 1 is always right. Pairs are split by how similar the decoy is to its original "
        f"(Tanimoto, Morgan radius 2): easy &lt; {EASY_MAX:g} ≤ medium &lt; hard, where hard is hard mode's window "
        "(default 0.65–0.95) and anything closer is near-identical. A model that only reacts to composition beats "
        "easy decoys and fails on hard ones. Realism measures how far the model separates close look-alikes pair "
        "by pair; it does not measure whether the model is right about activity.</p>",
        _realism_words(realism),
        '<p class="note">Realism counts pairs, one decoy at a time; a PASS needs the original to beat nearly all '
        "of its decoys at once. A model can win most pairs and still PASS few molecules.</p>",
    ]
    rows = []
    plotted: list[BinAuc] = []
    for name in _BIN_ORDER:
        block = _map(bins.get(name))
        if not block:
            continue
        bounds = [_number(b) for b in _seq(block.get("range"), 2)]
        low, high = [*bounds, None, None][:2]
        range_text = f"{_num(low, 2)}–{_num(high, 2)}" if low is not None and high is not None else "n/a"
        interval = [_number(b) for b in _seq(block.get("auc_ci95"), 2)]
        ci_text = f"{_num(interval[0])}–{_num(interval[1])}" if len(interval) == 2 else ""
        rows.append([name, range_text, _int_text(block.get("n_pairs")), _num(block.get("auc")), ci_text])
        pairs = _count(block.get("n_pairs"))
        auc = _number(block.get("auc"))
        plotted.append(BinAuc(name, auc if auc is not None and 0.0 <= auc <= 1.0 else None, pairs or 0))
    rows.append(["all", "0–1", _int_text(realism.get("n_pairs")), _num(realism.get("auc")), ""])
    parts.append(
        _table(["similarity bin", "range", "pairs", "AUC", "95% interval"], rows, [False, False, True, True, False])
    )
    parts.append(f"<p>Median similarity of a decoy to its original: {_num(realism.get('median_similarity'))}.</p>")
    if plotted and _count(realism.get("n_pairs")):
        parts.append(
            _plot(
                auc_by_bin_svg,
                plotted,
                caption=f"AUC by similarity bin. Dashed: chance (0.5); dotted: the signal threshold on hard decoys "
                f"({HARD_AUC_SIGNAL:g}).",
            )
        )
    histogram = _histogram(_map(realism.get("similarity_histogram")), "bin_edges")
    if histogram is not None and any(count > 0 for count in histogram[1]):
        parts.append(
            _plot(
                similarity_histogram_svg,
                *histogram,
                caption="Scored decoys by similarity to their original; the medium band is shaded.",
            )
        )
    return _section("realism", "Decoy realism", parts)


def _calibration_section(calibration: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    runs = _map(calibration.get("runs"))
    separation = _map(calibration.get("separation"))
    parts = [
        "<p>Calibration (<code>hetero2 calibrate</code>) audits the same input with scorers whose quality is known: "
        "<code>good</code> (originals 1, decoys 0: must PASS), <code>constant</code> and <code>random</code> "
        "(no signal: must not) and <code>composition</code> (a function of the molecular formula only, so it ties "
        "every decoy: must not). A trustworthy audit puts the good scorer far above all of them.</p>",
    ]
    inputs = _seq(manifest.get("inputs"), 1)
    this_input = _map(inputs[0]).get("name") if inputs else None
    if calibration.get("input") is not None and calibration.get("input") != this_input:
        parts.append(
            f'<p class="note">Calibration was run on <code>{_e(calibration.get("input"))}</code>, not on this '
            "pack's input.</p>"
        )
    run_rows = []
    for name, run in sorted(runs.items())[:MAX_CALIBRATION_RUNS]:
        block = _map(run)
        run_rows.append(
            [
                f"<code>{_e(name)}</code>",
                _pct(block.get("pass_rate")),
                _num(block.get("median_slack")),
                _int_text(block.get("n_judged")),
                f"<code>{_e(block.get('zip_sha256'))}</code>",
            ]
        )
    if run_rows:
        parts.append(
            _table(
                ["scorer", "PASS-rate", "median slack", "judged", "pack zip sha256"],
                run_rows,
                [False, True, True, True, False],
            )
        )
    sep_rows = []
    failed: list[str] = []
    for pair, facts in sorted(separation.items())[:MAX_CALIBRATION_RUNS]:
        block = _map(facts)
        d_slack, d_rate = _number(block.get("delta_median_slack")), _number(block.get("delta_pass_rate"))
        meets = block.get("meets_threshold")
        if d_slack is None or d_rate is None:
            verdict = "n/a"
        elif meets is True or (meets is None and d_slack > 0 and d_rate > 0):
            verdict = '<span class="pass">separated</span>'
        else:
            verdict = '<span class="fail">not separated</span>'
            failed.append(str(pair))
        sep_rows.append([f"<code>{_e(pair)}</code>", _num(d_slack), _num(d_rate), verdict])
    if sep_rows:
        parts.append(_table(["comparison", "Δ median slack", "Δ PASS-rate", ""], sep_rows, [False, True, True, False]))
        if failed:
            parts.append(
                f"<p><b>The audit did not separate {_e(', '.join(failed), 300)}</b>: on this input, a good scorer "
                "does not come out clearly above a bad one, so a PASS-rate here says little.</p>"
            )
        else:
            parts.append(
                "<p>The good scorer comes out above every bad one in both median slack and PASS-rate: the audit "
                "reacts to scoring quality on this input.</p>"
            )
    else:
        parts.append('<p class="note">The calibration result holds no separation figures.</p>')
    parts.append(power_section(calibration))
    return _section("calibration", "Known-bad / known-good separation", parts)


def _footer() -> str:
    return (
        "<footer>\n"
        f"<p>This page is rendered from <code>{MANIFEST}</code> and <code>{METRICS}</code> only; per-row results "
        f"are in <code>{SUMMARY}</code>, every decoy with its hash and score in <code>{DECOYS}</code>, a short "
        f"text summary in <code>{INDEX}</code>. <code>{REPORT}</code> is listed in the manifest and in "
        f"<code>{CHECKSUMS}</code> like every member, so a signed pack's signature covers it too.</p>\n"
        f"<p>Verify the pack: <code>hetero2 verify &lt;pack folder or evidence_pack.zip&gt; --public-key "
        f"&lt;publisher's key&gt;</code>, or <code>sha256sum -c {CHECKSUMS}</code>.</p>\n"
        "</footer>"
    )


def render_report(
    manifest: Mapping[str, Any], metrics: Mapping[str, Any], calibration: Mapping[str, Any] | None = None
) -> str:
    """The whole report page as text (write it UTF-8); same arguments and library versions, same text.

    Args:
        manifest: the pack's manifest (its ``files`` list is not needed and not read).
        metrics: the pack's ``metrics.json`` content.
        calibration: a ``hetero_calibration.v1`` result (``calibration.json``), when one was run for this
            input; its section appears only when given.
    """
    inputs = _seq(manifest.get("inputs"), 1)
    name = _map(inputs[0]).get("name") if inputs else None
    body = [
        _header(manifest, metrics, calibration is not None),
        _nav(calibration is not None),
        "<main>",
        methods_section(manifest, metrics),
        limitations_section(manifest, metrics),
        _facts_section(manifest, metrics),
        _rows_section(metrics),
        _pass_rate_section(metrics),
        _slack_section(metrics),
        _realism_section(metrics),
        *([_calibration_section(calibration, manifest)] if calibration is not None else []),
        _worst_section(metrics),
        _problems_section(metrics),
        "</main>",
        _footer(),
    ]
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No script may run and nothing may be fetched, even if some text escaped our escaping.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">',
        f"<title>HETERO-2 {'calibration' if calibration is not None else 'audit'} report — {_e(name)}</title>",
        f"<style>{_CSS}{DECISION_CSS}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(page)
