"""The evidence record and the HTML report built from it."""
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from deepnotes.claims import registry
from deepnotes.claims.evidence import Evidence, format_effect, summarize_metrics
from deepnotes.claims.lab import run_claims
from deepnotes.claims.report import build_report, code_location


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links, self.sections, self.scripts = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag in ("tr", "section") and "claim" in (attrs.get("class") or ""):
            self.sections.append(attrs.get("id"))
        if tag in ("script", "link"):
            self.scripts.append(attrs)


def parse(path):
    parser = Links()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser


@pytest.fixture
def judged_run(fake_claim, tmp_path):
    out = tmp_path / "claims"
    lab = run_claims(["K99"], budget="tiny", seeds=3, out=out)
    assert lab.ok, lab.errors
    return out, lab.evidence["K99"]


def test_evidence_is_complete_and_round_trips(judged_run):
    out, ev = judged_run
    assert ev.seeds == [0, 1, 2] and ev.budget == "tiny" and len(ev.results) == 3
    assert set(ev.metrics) == {"base/norm", "scaled/norm", "version"}
    norms = [r["metrics"]["base/norm"] for r in ev.results]
    assert ev.metrics["base/norm"]["min"] == min(norms) and ev.metrics["base/norm"]["max"] == max(norms)
    assert ev.metrics["base/norm"]["sd"] == pytest.approx(float(__import__("numpy").std(norms, ddof=1)))
    for name, c in ev.criteria.items():
        assert c["verdict"] in ("holds", "does not hold", "mixed") and c["text_en"] and c["text_zh"]
        assert len(c["per_seed"]) == 3 and len(c["effects"]) == 3
    assert ev.criteria["ratio_gap"]["mean"] == pytest.approx(1.0)
    assert ev.criteria["noise"]["paired"] is False
    assert "def fake" in ev.source and ev.verdict in ("holds", "does not hold", "mixed")
    env = ev.environment
    assert env["budget"] == "tiny" and env["seeds"] == [0, 1, 2]
    assert env["numpy"] and env["python"] and env["deepnotes"] and isinstance(env["blas"], list)
    assert ev.figures == ["norms.png", "effects.png"]
    assert all((out / "K99" / f).is_file() for f in ev.figures)

    stored = Evidence.load(out / "K99" / "evidence.json")
    assert stored == ev
    assert Evidence.from_dict(json.loads(json.dumps(ev.to_dict()))) == ev


def test_summary_and_formatting():
    assert format_effect(0.4123, 0.38, 0.45) == "+0.412 [0.38, 0.45]"
    assert format_effect(-2.0, None, None) == "-2 [-inf, inf]"
    assert format_effect(1.0, -math.inf, math.inf) == "+1 [-inf, inf]"
    s = summarize_metrics([{"metrics": {"a": 1.0}}, {"metrics": {"a": 3.0, "b": 2.0}}])
    assert s["a"] == {"mean": 2.0, "sd": pytest.approx(2**0.5), "min": 1.0, "max": 3.0, "n": 2}
    assert s["b"] == {"mean": 2.0, "sd": 0.0, "min": 2.0, "max": 2.0, "n": 1}


def test_report_has_a_section_per_claim_and_every_image_exists(judged_run):
    out, ev = judged_run
    index = build_report(out, claims={"K99": registry.get("K99")})
    assert index == out / "index.html"
    top = parse(index)
    assert top.sections == ["K99"]
    assert top.images and all((out / src).is_file() for src in top.images)
    assert "K99/index.html" in top.links
    assert not top.scripts  # offline: no script or stylesheet from anywhere

    page = out / "K99" / "index.html"
    claim_page = parse(page)
    assert claim_page.sections == ["claim-K99"]
    assert sorted(claim_page.images) == sorted(ev.figures)
    assert all((page.parent / src).is_file() for src in claim_page.images)
    html = page.read_text(encoding="utf-8")
    for text in (ev.statement_en, ev.statement_zh, ev.caveats_en, ev.caveats_zh, "norm(2W x) / norm(W x) - 1 &gt;= 0.5",
                 "def fake(seed, budget):", "权重放大"):
        assert text in html, text
    assert not re.search(r"https?://", Path(index).read_text() + html)  # no CDN, no remote asset
    assert len(re.findall(r"<th class=\"num\">seed \d+</th>", html)) == 3  # one column per seed


def test_report_lists_registered_claims_not_run_and_stale_runs(judged_run):
    out, _ = judged_run
    claims = {"K99": registry.get("K99"), "K98": registry.get("K99")}
    build_report(out, claims=claims)
    text = (out / "index.html").read_text(encoding="utf-8")
    assert parse(out / "index.html").sections == ["K98", "K99"]
    assert "not run" in text


def test_code_links_resolve_to_files():
    loc = code_location("deepnotes.nn.functional")
    assert loc["file"].endswith(".py") and loc["line"] == 1
    loc = code_location("deepnotes.claims.verdict.judge")
    assert loc["file"].replace("\\", "/").endswith("deepnotes/claims/verdict.py") and loc["line"] > 1
    assert code_location("deepnotes.no_such_thing")["file"] is None
