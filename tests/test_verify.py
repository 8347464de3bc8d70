"""``symbackprop verify``: the lectures' own numbers, constructed students, bad claims.

The expected verdicts on the seeds' numbers were worked out by hand before these tests
were written, and every one is cross-checked here against the independent oracle
(tests/oracle.py: ``sympy.diff`` of the substituted expression): a number called
``correct`` must be the oracle's value rounded or truncated to the digits shown, one
called ``wrong`` must be further than the band from it. The constructed students' numbers
are computed in the tests with plain decimal arithmetic, the way a student would.
"""

from __future__ import annotations

import hashlib
import json
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest
import sympy as sp

import symbackprop as sb
from symbackprop import examples
from symbackprop.verify import DEFAULT_BAND
from tests.oracle import graph_oracle, load_toml

DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------------ an independent oracle


def oracle_quantities(name: str) -> dict[str, sp.Float]:
    """Claim key -> exact value for a graph-form built-in, by the oracle: node values,
    gradients of the output w.r.t. every leaf, updated parameters, the second forward
    pass. Nothing here comes from the engine."""
    table = load_toml(examples.example_text(name))
    value, grads, full, symbols, point = graph_oracle(table)
    out = {}
    for node, expr in full.items():
        out[node] = sp.N(expr.xreplace(point), 40)
    for leaf, g in grads.items():
        out[f"d{table.get('output', 'E')}/d{leaf}"] = g
    rate = sp.Rational(str(table["learning_rate"]))
    moved = dict(point)
    for p, v in table["parameters"].items():
        new = sp.Rational(str(v)) - rate * grads[p]
        out[f"{p}_new"] = sp.N(new, 40)
        moved[symbols[p]] = new
    for node, expr in full.items():
        out[f"{node}_new"] = sp.N(expr.xreplace(moved), 40)
    return out


def cut(value, shown: str) -> set[Decimal]:
    """The oracle's value rounded and truncated to the digits of ``shown``."""
    d = Decimal(str(sp.N(value, 40)))
    q = Decimal(1).scaleb(Decimal(shown).as_tuple().exponent)
    return {d.quantize(q, ROUND_HALF_UP), d.quantize(q, ROUND_DOWN)}


def units_off(value, shown: str) -> Decimal:
    d = Decimal(str(sp.N(value, 40)))
    return abs(d - Decimal(shown)) / Decimal(1).scaleb(Decimal(shown).as_tuple().exponent)


def claims_of(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            k, v = (s.strip() for s in line.split("="))
            out[k] = v
    return out


def assert_one_error_line(result, path, words) -> None:
    """Exit 2 and one ``error: PATH ...`` line that contains every word."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def statuses(report) -> dict[str, str]:
    return {v.key: v.status for v in report.verdicts}


def notes(report) -> dict[str, str]:
    return {v.key: v.note for v in report.verdicts}


# ------------------------------------------------------------------ the “Backpropagation” slides, 3-2-2

# Worked out by hand: the table's first-layer gradients sum only the path through y2
# (e.g. dE/dw1: 0.7502 * 0.1598 * 0.8 * 0.0132 = 0.00127, shown 0.0012; the path through
# y1 adds 0.00072, true value 0.00198). dE/dw7 = 0.0764 is 0.7895 * 0.0982 * 0.9866 from
# the truncated factors (true 0.076535). The rest are truncations of the true values, or
# follow from the slides' own truncated numbers (y2 = sigma(1.388) = 0.80029 -> 0.8002;
# z_b_new = 0.1999 + 4 * 0.3999 + 5 * 0.5999 + 0.4999 = 5.2989).
NET_322_WRONG = {"dE/dw1", "dE/dw2", "dE/dw3", "dE/dw4", "dE/dw5", "dE/dw6", "dE/db1", "dE/db2"}
NET_322_ROUNDING = {"y2", "E", "dE/dw7", "h_a_new", "z_b_new", "y1_new", "y2_new", "E_new"}


def test_net_322_table_of_expected_results():
    path = DATA / "net-322-table.claims"
    report = sb.verify("net-322", path)
    truth = oracle_quantities("net-322")
    given = claims_of(path)
    got = statuses(report)
    assert set(got) == set(given)
    for key, shown in given.items():
        expected = ("wrong" if key in NET_322_WRONG else
                    "rounding" if key in NET_322_ROUNDING else "correct")
        assert got[key] == expected, (key, report.to_text())
        # the independent check of the hand-made verdict
        if expected == "correct":
            assert Decimal(shown) in cut(truth[key], shown), key
        elif expected == "wrong":
            assert units_off(truth[key], shown) > 2, key
        else:
            assert Decimal(shown) not in cut(truth[key], shown), key
    assert report.summary == {"correct": 30, "rounding": 8, "carried": 0, "wrong": 8}
    assert report.exit_status == 1


def test_net_322_wrong_gradients_are_a_missing_path():
    """Each wrong gradient is diagnosed as the path through y1, z_c left out; the value
    of the path kept is checked against the oracle with that path cut (h_a enters z_c
    as a constant)."""
    report = sb.verify("net-322", DATA / "net-322-table.claims")
    table = load_toml(examples.example_text("net-322"))
    h_a = sp.N(1 / (1 + sp.exp(-sp.Rational(43, 10))), 40)
    h_b = sp.N(1 / (1 + sp.exp(-sp.Rational(53, 10))), 40)
    table["graph"]["z_c"] = "h_a0*w7 + h_b0*w9 + b3"
    table["inputs"]["h_a0"] = Decimal(str(h_a))
    table["inputs"]["h_b0"] = Decimal(str(h_b))
    _, one_path, _, _, _ = graph_oracle(table)
    given = claims_of(DATA / "net-322-table.claims")
    for key, note in notes(report).items():
        if key not in NET_322_WRONG:
            continue
        assert "dropped the path through y1, z_c" in note, note
        assert Decimal(given[key]) in cut(one_path[key.split("/d")[1]], given[key]), key


# ------------------------------------------------------------------ the “Backpropagation” slides, 2-2-1


def test_net_221_slides_are_all_accepted(cli):
    path = DATA / "net-221-slides.claims"
    r = cli("verify", "net-221", path)
    assert r.returncode == 0, r.stdout + r.stderr
    report = sb.verify("net-221", path)
    truth = oracle_quantities("net-221")
    for v in report.verdicts:
        assert v.accepted, (v.key, v.note)
        if v.key in truth:  # values, gradients w.r.t. leaves, updates
            assert units_off(truth[v.key], v.claim.given.text) < 2, v.key
    # truncation is correct, not rounding: h_a = 0.58686 shown as 0.5868
    assert statuses(report)["h_a"] == "correct"
    assert "truncated" in notes(report)["h_a"]
    # z_c = 0.5868 * 0.2 + 0.5892 * 0.6 = 0.47088 from the slides' own h_a and h_b
    assert "h_a = 0.5868" in notes(report)["z_c"]
    assert r.stdout.strip().splitlines()[-1] == report.summary_line()


# ------------------------------------------------------------------ constructed students

D = Decimal


def r4(x: Decimal) -> str:
    return str(x.quantize(D("0.0001"), ROUND_HALF_UP))


def sigmoid(x: Decimal) -> Decimal:
    return 1 / (1 + (-x).exp())


def student_221(**slips) -> dict[str, str]:
    """A student's sheet for net-221, computed in decimals and rounded to 4 decimals at
    every step, as by hand; ``slips`` replaces a number (and everything after it uses
    the replaced number)."""
    x1, x2, yt = D("0.23"), D("0.82"), D(1)
    w = {i: D(v) for i, v in enumerate(["0.1", "0.5", "0.4", "0.3", "0.2", "0.6"], start=1)}
    sheet: dict[str, str] = {}

    def put(key, value):
        sheet[key] = slips.get(key, r4(value))
        return D(sheet[key])

    z_a = put("z_a", x1 * w[1] + x2 * w[3])
    h_a = put("h_a", sigmoid(z_a))
    z_b = put("z_b", x1 * w[2] + x2 * w[4])
    h_b = put("h_b", sigmoid(z_b))
    z_c = put("z_c", h_a * w[5] + h_b * w[6])
    y = put("y", sigmoid(z_c))
    put("E", (yt - y) ** 2 / 2)
    dy = put("dE/dy", -(yt - y))
    dz = put("dy/dz_c", y * (1 - y))
    g5 = put("dE/dw5", dy * dz * h_a)
    g6 = put("dE/dw6", dy * dz * h_b)
    put("w5_new", w[5] - D("0.7") * g5)
    put("w6_new", w[6] - D("0.7") * g6)
    return sheet


def verify_sheet(problem: str, sheet: dict[str, str]):
    return sb.verify(problem, sheet)


def test_an_honest_student_is_accepted():
    report = verify_sheet("net-221", student_221())
    assert report.accepted, report.to_text()


def test_a_slip_carried_through_later_numbers():
    sheet = student_221(y="0.6255")  # sigma(0.4709) = 0.6156, miscopied
    report = verify_sheet("net-221", sheet)
    got = statuses(report)
    assert got["y"] == "wrong"
    for key in ("E", "dE/dy", "dy/dz_c", "dE/dw5", "dE/dw6", "w5_new", "w6_new"):
        assert got[key] == "carried", (key, report.to_text())
    # the student's own arithmetic: E = (1 - 0.6255)^2 / 2 = 0.0701
    assert sheet["E"] == "0.0701"
    assert "y = 0.6255" in notes(report)["E"]
    assert all(got[k] in ("correct", "rounding") for k in ("z_a", "h_a", "z_b", "h_b", "z_c"))
    assert report.exit_status == 1


@pytest.mark.parametrize("key, given, status, words", [
    ("dE/dw5", "0.0534", "wrong", ["flipped the sign"]),
    ("dE/dy", "-0.7688", "wrong", ["½", "doubles"]),
    ("dE/dw5", "-0.2256", "wrong", ["left out the factor dy/dz_c"]),
    ("w5_new", "0.1626", "wrong", ["added"]),
    ("dE/dw5", "-0.0536", "wrong", ["dE/dw6"]),
    ("dE/dw5", "-0.0374", "wrong", ["learning rate"]),  # 0.7 * (-0.0534)
    ("dy/dz_c", "0.2492", "wrong", ["z_c(1 − z_c)"]),  # 0.4709 * (1 - 0.4709)
    ("dE/dw5", "-0.0562", "wrong", ["dy/dz_c", "z_c = 0.4709"]),  # same slip, in a product
])
def test_a_slip_is_diagnosed(key, given, status, words):
    sheet = student_221()
    sheet[key] = given
    report = verify_sheet("net-221", sheet)
    verdict = {v.key: v for v in report.verdicts}[key]
    assert verdict.status == status, verdict.note
    for word in words:
        assert word in verdict.note, verdict.note
    assert verdict.note.startswith("expected ")
    others = [v for v in report.verdicts if v.key != key and v.key not in ("w5_new",)]
    assert all(v.status != "wrong" for v in others), report.to_text()


def test_the_independent_checks_of_the_slips():
    """The constructed slips are what they claim to be, by the oracle."""
    truth = oracle_quantities("net-221")
    assert Decimal("0.0534") in {-x for x in cut(truth["dE/dw5"], "0.0534")}
    assert units_off(-2 * (1 - truth["y"]), "-0.7688") < 1  # d/dy of (1 - y)^2, no 1/2
    w5 = sp.Rational(1, 5)
    assert Decimal("0.1626") in cut(w5 + sp.Rational(7, 10) * truth["dE/dw5"], "0.1626")
    assert Decimal("-0.0536") in cut(truth["dE/dw6"], "-0.0536")
    assert Decimal("-0.0374") in cut(sp.Rational(7, 10) * truth["dE/dw5"], "-0.0374")
    z_c, y, h_a = truth["z_c"], truth["y"], truth["h_a"]
    assert Decimal("0.2492") in cut(z_c * (1 - z_c), "0.2492")
    assert Decimal("-0.0562") in cut(-(1 - y) * z_c * (1 - z_c) * h_a, "-0.0562")


def test_a_missing_path_in_a_sum():
    y2 = oracle_quantities("net-322")["y2"]
    through_y2 = (y2 - sp.Rational(5, 100)) * y2 * (1 - y2) * sp.Rational(8, 10)
    given = str(Decimal(str(through_y2)).quantize(Decimal("0.0001")))  # 0.0959
    report = sb.verify("net-322", {"dE/dh_a": given})
    (verdict,) = report.verdicts
    assert verdict.status == "wrong"
    assert "dropped the path through y1, z_c" in verdict.note


# ------------------------------------------------------------------ arrays, JSON, options


def test_seed_004_handout_carries_its_slip(cli):
    """sigma(1.38) = 0.79899 is written 0.7986 and carried through the backward pass."""
    path = DATA / "mlp-relu-bce-handout.claims"
    report = sb.verify("mlp-relu-bce", path)
    got = statuses(report)
    assert got["a2[0]"] == "wrong" and got["z2[0]"] == "correct"
    assert got["dL/da2[0]"] == "carried"  # -1/0.7986 = -1.25219
    for key in ("dL/dW2[0][0]", "dL/dW2[0][1]", "dL/db2[0]", "dL/dW1[1][1]", "b2_new[0]"):
        assert got[key] == "carried", key
    assert got["dL/dW1[0][1]"] == "wrong"  # -0.2420 where 2 * (-0.1008) = -0.2016
    assert "copied the number given for dL/dW1[1][1]" in notes(report)["dL/dW1[0][1]"]
    # dL/dz2 = 0.7986 * (1 - 0.7986) * (-1.2521) = -0.20139: not even the handout's own
    assert got["dL/dz2[0]"] == "wrong"
    assert "would give -0.2013" in notes(report)["dL/dz2[0]"]
    # the update of W1[0][1] uses 2 * (-0.1008) = -0.2016, not the -0.2420 written above it
    assert got["W1_new[0][1]"] == "carried"
    assert "dL/dz1[0] = -0.1008" in notes(report)["W1_new[0][1]"]
    assert "not from the given dL/dW1[0][1] = -0.2420" in notes(report)["W1_new[0][1]"]
    assert report.summary == {"correct": 5, "rounding": 0, "carried": 23, "wrong": 3}
    r = cli("verify", "mlp-relu-bce", path, "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert [c["claim"] for c in data["claims"]][:2] == ["z1[0]", "z1[1]"]
    assert "W1_new[0][1]" in {c["claim"] for c in data["claims"]}


def test_json_is_exactly_the_contract(cli, tmp_path):
    claims = tmp_path / "c.txt"
    claims.write_text("z_a = 0.351\ndE/dw1 = 0.0012\ny = 0.6155\n")
    r = cli("verify", "net-221", claims, "--json")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert list(data) == ["claims", "summary"]
    assert list(data["summary"]) == ["correct", "rounding", "carried", "wrong"]
    assert data["summary"] == {"correct": 1, "rounding": 1, "carried": 0, "wrong": 1}
    for c in data["claims"]:
        assert list(c) == ["claim", "given", "expected", "status", "note"]
    first, second, _ = data["claims"]
    assert first == {"claim": "z_a", "given": 0.351, "expected": 0.351, "status": "correct",
                     "note": ""}
    assert second["given"] == 0.0012 and abs(second["expected"] + 0.0010144829) < 1e-9
    assert "flipped the sign" not in second["note"] and second["note"].startswith("expected")


def test_strict_and_band(cli, tmp_path):
    claims = tmp_path / "c.txt"
    claims.write_text("z_c = 0.4708\n")  # 1.4 units off, from the truncated h_a, h_b
    assert cli("verify", "net-221", claims).returncode == 0
    assert cli("verify", "net-221", claims, "--strict").returncode == 1
    claims.write_text("E = 0.0737\n")  # 1.8 units off 0.073879, and no rounding gives it
    assert cli("verify", "net-221", claims).returncode == 0
    r = cli("verify", "net-221", claims, "--band", "1.5")
    assert r.returncode == 1 and "wrong" in r.stdout
    assert cli("verify", "net-221", claims, "--band", "1.9").returncode == 0
    r = cli("verify", "net-221", claims, "--band", "lots")
    assert r.returncode == 2 and r.stderr.startswith("error: --band")


# ------------------------------------------------------------------ a power of ten


def test_a_power_of_ten_cannot_make_a_wrong_number_correct(cli, tmp_path):
    """0e9 everywhere was 16 correct (its unit a billion), 1e9 everywhere all rounding,
    1e60 for a negative gradient rounding: a number written with a power of ten is
    judged by its significant digits, and a zero so written claims 0 itself."""
    sheet = student_221()
    truth = oracle_quantities("net-221")
    assert all(truth[k] != 0 for k in sheet if k in truth)  # no 0 here: none may be accepted
    for fake in ("0e9", "1e9", "0.0e5"):
        claims = tmp_path / "c.txt"
        claims.write_text("".join(f"{k} = {fake}\n" for k in sheet))
        for strict in ((), ("--strict",)):
            r = cli("verify", "net-221", claims, "--json", *strict)
            assert r.returncode == 1, (fake, r.stdout)
            got = {c["claim"]: c["status"] for c in json.loads(r.stdout)["claims"]}
            assert "correct" not in got.values() and "rounding" not in got.values(), (fake, got)
    (v,) = sb.verify("net-221", {"dE/dw5": "1e60"}).verdicts
    assert v.status == "wrong" and Decimal(1e60) not in cut(truth["dE/dw5"], "1e60")


@pytest.mark.parametrize("written, unit", [("5.34e-2", "1e-4"), ("-5.3E-2", "1e-3"),
                                           ("1e9", "1e9"), ("1.50e3", "1e1"), ("0.0010", "1e-4"),
                                           ("1500", "1")])
def test_the_precision_of_a_number_is_its_digits(written, unit):
    from symbackprop.verify.claims import parse_number

    assert parse_number(written).unit == Decimal(unit)


def test_significant_digits_are_judged_against_the_oracle():
    """dE/dw5 = -0.053381...: -5.34e-2, -5.338e-2 and -5.3e-2 are it rounded (correct),
    -5.32e-2 is 1.8 units of 1e-4 off (rounding), 5.34e-2 the sign flipped."""
    truth = oracle_quantities("net-221")["dE/dw5"]
    for written in ("-5.34e-2", "-5.338e-2", "-5.3e-2"):
        assert Decimal(written) in cut(truth, written)
        (v,) = sb.verify("net-221", {"dE/dw5": written}).verdicts
        assert v.status == "correct", (written, v.note)
    assert units_off(truth, "-5.32e-2") < 2
    (v,) = sb.verify("net-221", {"dE/dw5": "-5.32e-2"}).verdicts
    assert v.status == "rounding", v.note
    (v,) = sb.verify("net-221", {"dE/dw5": "5.34e-2"}).verdicts
    assert v.status == "wrong" and v.mistake == "sign-flipped", v.note


def test_a_claim_with_many_decimals_is_judged(cli, tmp_path):
    """29 decimals and more crashed the recomputation (Decimal's 28-digit context); the
    oracle's value cut to 29, 35 and 60 decimals is correct, and one unit of its last
    digit off is still judged (not a crash)."""
    truth = oracle_quantities("net-221")
    for places in (29, 35, 60):
        with localcontext(prec=120):
            exact = Decimal(str(sp.N(truth["dE/dw5"], 80)))
            given = exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
            off = given + 5 * Decimal(1).scaleb(-places)
        claims = tmp_path / "c.txt"
        claims.write_text(f"dE/dw5 = {given}\nh_a = {off}\n")
        r = cli("verify", "net-221", claims, "--json")
        assert r.returncode in (0, 1) and not r.stderr, r.stderr
        got = {c["claim"]: c["status"] for c in json.loads(r.stdout)["claims"]}
        assert got["dE/dw5"] == "correct"
        assert got["h_a"] == "wrong"  # h_a is 0.58686: far more than the band away


# ------------------------------------------------------------------ early rounding, commas


def test_an_intermediate_rounded_early_is_named():
    """h_a = 0.59 (two decimals) carried into z_c at four: z_c is 6 units of its last
    digit off the truth, accepted as rounding, and the note says h_a was rounded early;
    E = 0.0737 is within the band, and the note finds y rounded early to 0.616."""
    truth = oracle_quantities("net-221")
    h_b = sigmoid(D("0.23") * D("0.5") + D("0.82") * D("0.3"))
    z_c = r4(D("0.59") * D("0.2") + D(r4(h_b)) * D("0.6"))
    assert units_off(truth["z_c"], z_c) > 2 and Decimal("0.59") in cut(truth["h_a"], "0.59")
    report = sb.verify("net-221", {"h_a": "0.59", "h_b": r4(h_b), "z_c": z_c})
    v = {v.key: v for v in report.verdicts}["z_c"]
    assert v.status == "rounding", v.note
    assert "h_a = 0.59 (rounded early, to 2 decimals" in v.note, v.note
    e = r4((1 - D("0.616")) ** 2 / 2)
    assert e == "0.0737" and units_off(truth["E"], e) < 2
    (v,) = sb.verify("net-221", {"E": e}).verdicts
    assert v.status == "rounding" and "y rounded early to 0.616" in v.note, v.note


def test_a_decimal_comma(cli, tmp_path):
    """0,0822 is 0.0822 in a claims file and through the API; 1,234 could be a thousand
    and is refused with its line."""
    truth = oracle_quantities("net-221")
    claims = tmp_path / "c.txt"
    claims.write_text("dE/dw5 = -0,0534\nh_a = 0,5869\n")
    assert Decimal("-0.0534") in cut(truth["dE/dw5"], "-0.0534")
    r = cli("verify", "net-221", claims, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [c["status"] for c in json.loads(r.stdout)["claims"]] == ["correct", "correct"]
    (v,) = sb.verify("net-221", {"dE/dw5": "0,0534"}).verdicts
    assert v.status == "wrong" and v.mistake == "sign-flipped"
    claims.write_text("z_a = 0.351\nz_b = 1,234\n")
    assert_one_error_line(cli("verify", "net-221", claims), claims, ["line 2", "ambiguous"])


# ------------------------------------------------------------------ the band's limits


def test_the_band_does_not_accept_the_reviewers_numbers(cli):
    """At one decimal the band of 2 units is +-0.2: it accepted 0.1 for dE/dw5 = -0.0534
    (the sign flipped) and 0.4 for w5_new = 0.2374 (67 % off). Neither is a rounding."""
    r = cli("verify", "net-221", "-", "--json", input="dE/dw5 = 0.1\nw5_new = 0.4\n")
    assert r.returncode == 1, r.stderr
    got = {c["claim"]: c for c in json.loads(r.stdout)["claims"]}
    assert got["dE/dw5"]["status"] == "wrong"
    assert "flipped the sign" in got["dE/dw5"]["note"]
    assert got["w5_new"]["status"] == "wrong"
    assert got["w5_new"]["note"].startswith("expected 0.2374")
    # a number near the value in relative terms too is still a rounding
    assert statuses(sb.verify("net-221", {"w5_new": "0.3"})) == {"w5_new": "rounding"}
    assert statuses(sb.verify("net-221", {"dE/dw5": "-0.1"})) == {"dE/dw5": "correct"}


@pytest.mark.parametrize(("given", "value", "band", "ok"), [
    ("0.1", "-0.0534", 2, False),   # the other sign
    ("0.4", "0.2374", 2, False),    # 1.6 units, but 68 % of the value
    ("0.3", "0.2374", 2, True),     # 0.6 units, 26 %
    ("0.0001", "0.00004", 2, True),   # below one unit: judged to the unit written
    ("0.0002", "0.00004", 2, False),  # 1.6 units, more than one unit and half the value
    ("-0.0001", "0.00006", 2, False),  # 0.0001 at the precision written: flipped
    ("0.0737", "0.073879", 2, True),  # 1.8 units, 0.2 %
    ("0.0737", "0.073879", 1.5, False),
    ("0.5", "0.2374", 1000, False),  # a wide band is still capped by half the value
])
def test_the_band_rule(given, value, band, ok):
    from symbackprop.verify.claims import parse_number
    from symbackprop.verify.tolerance import within

    assert within(parse_number(given), Decimal(value), Decimal(str(band))) is ok


def test_a_flipped_sign_is_never_accepted_at_any_precision():
    """Every quantity of net-221 with its sign flipped, written to 1 to 6 decimals, alone
    on a sheet, under the default band and a huge one: never accepted, and the note says
    the sign is flipped. Values that are 0 at the precision written are left out."""
    from symbackprop.verify.claims import parse_claims
    from symbackprop.verify.judge import judge

    solution = sb.load("net-221").solve()
    truth = oracle_quantities("net-221")
    tried = 0
    for k in range(1, 7):
        for key, value in truth.items():
            shown = Decimal(rounded(value, k))
            if shown == 0:
                continue
            claims = parse_claims(f"{key} = {-shown}", solution)
            for band in (DEFAULT_BAND, Decimal(1000)):
                (verdict,) = judge(solution, claims, band)
                assert verdict.status == "wrong", (key, -shown, band, verdict.note)
                assert "flipped the sign" in verdict.note, (key, -shown, verdict.note)
                tried += 1
    assert tried > 300


def test_a_reversed_derivative_key_is_an_error_and_unrelated_names_give_0(cli, tmp_path):
    path = tmp_path / "claims.txt"
    for text, words in [
        ("dz_a/dh_a = 0.2425\n", ["h_a is not upstream of z_a", "did you mean dh_a/dz_a?"]),
        ("E = 0.0739\n\ndx1/dE = 0\n", ["line 3", "E is not upstream of x1",
                                        "did you mean dE/dx1?"]),
    ]:
        path.write_text(text)
        assert_one_error_line(cli("verify", "net-221", path), f"{path} line", words)
    # arrays: checked element by element, reported as written
    r = cli("verify", "mlp-relu-bce", "-", input="dz1/dL = [0, 0]\n")
    assert r.returncode == 2 and "did you mean dL/dz1?" in r.stderr, r.stderr
    # neither upstream of the other: a valid key, and the derivative is 0
    report = sb.verify("net-221", {"dz_a/dz_b": "0", "dh_a/dw2": "0", "dz_b/dh_a": "0.5"})
    assert statuses(report) == {"dz_a/dz_b": "correct", "dh_a/dw2": "correct",
                                "dz_b/dh_a": "wrong"}


def test_whole_arrays_and_one_element_vectors():
    report = sb.verify("mlp-relu-bce", {"W1_new": "[[0.1101, 0.2201], [0.3121, 0.4241]]",
                                        "a2": "0.7990", "dL/dW2": "[[-0.1206, -0.2613]]"})
    got = statuses(report)
    assert list(got) == ["W1_new[0][0]", "W1_new[0][1]", "W1_new[1][0]", "W1_new[1][1]",
                         "a2[0]", "dL/dW2[0][0]", "dL/dW2[0][1]"]
    assert set(got.values()) == {"correct"}, report.to_text()
    # a 1x2 matrix may be written as a flat list, as the handout writes dL/dW2
    flat = sb.verify("mlp-relu-bce", {"dL/dW2": "[-0.1206, -0.2613]"})
    assert [v.key for v in flat.verdicts] == ["dL/dW2[0][0]", "dL/dW2[0][1]"]
    with pytest.raises(sb.SymbackpropError, match="shape 2x2"):
        sb.verify("mlp-relu-bce", {"dL/dW1": "[-0.1, -0.2, -0.1, -0.2]"})
    # and a vector as the column it is on paper (z1 = W1 x + b1 = [0.6, 1.3] in the L6 handout)
    column = sb.verify("mlp-relu-bce", {"z1": "[[0.6], [1.3]]", "a1": "[[0.6, 1.3]]"})
    assert [v.key for v in column.verdicts] == ["z1[0]", "z1[1]", "a1[0]", "a1[1]"]
    assert column.summary["correct"] == 4, column.to_text()


def test_claims_from_standard_input(cli):
    r = cli("verify", "net-221", "-", "--json", input="E = 0.0739\nh_a = 0.9\n")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert [c["status"] for c in data["claims"]] == ["correct", "wrong"]
    r = cli("verify", "net-221", "-", input="h_q = 0.5\n")
    assert r.returncode == 2 and r.stderr.startswith("error: <stdin> line 1:")


def test_comments_blank_lines_and_unicode_minus(tmp_path):
    claims = tmp_path / "c.txt"
    claims.write_text("# a sheet\n\n  dE/dw5 = \u22120.0534   # rounded\n\nE = 0.0739\n")
    report = sb.verify("net-221", claims)
    assert statuses(report) == {"dE/dw5": "correct", "E": "correct"}


# ------------------------------------------------------------------ bad claims files

BAD_CLAIMS = {
    "unknown name": ("z_a = 0.351\ndE/dw7 = 0.1\n", ["line 2", "w7", "did you mean"]),
    "misspelt node": ("h_c = 0.5\n", ["line 1", "h_c", "did you mean"]),
    "not a number": ("z_a = 0.35l\n", ["line 1", "0.35l", "not a number"]),
    "no equals sign": ("# sheet\nz_a 0.351\n", ["line 2", "KEY = NUMBER"]),
    "no number": ("z_a =\n", ["line 1", "no number"]),
    "no key": ("= 0.3\n", ["line 1", "key"]),
    "array as scalar": ("w1 = [0.1, 0.2]\n", ["line 1", "shape"]),
    "scalar on array": None,
    "bad list": ("dE/dw1 = [0.1, \n", ["line 1"]),
    "twice, different": ("z_a = 0.351\nz_a = 0.35\n", ["line 2", "twice"]),
    "empty": ("# nothing\n", ["no claims"]),
    "not utf-8": (b"z_a = 0.351\xff\n", ["UTF-8"]),
}


@pytest.mark.parametrize("case", [k for k, v in BAD_CLAIMS.items() if v])
def test_bad_claims_file(case, cli, tmp_path):
    text, words = BAD_CLAIMS[case]
    path = tmp_path / "claims.txt"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = cli("verify", "net-221", path)
    assert_one_error_line(r, path, words)
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_scalar_claim_on_a_matrix(cli, tmp_path):
    path = tmp_path / "claims.txt"
    path.write_text("W1 = 0.1\n")
    r = cli("verify", "mlp-relu-bce", path)
    assert r.returncode == 2 and "line 1" in r.stderr and "W1[0][0]" in r.stderr


def test_update_claim_without_a_learning_rate(cli, tmp_path):
    path = tmp_path / "claims.txt"
    path.write_text("f = -12\nx_new = -2\n")
    r = cli("verify", "chain-xyz", path)
    assert r.returncode == 2 and "line 2" in r.stderr and "learning_rate" in r.stderr


def test_python_api_takes_a_mapping_and_a_problem():
    problem = sb.load("net-221")
    report = sb.verify(problem, {"dE/dw5": -0.0534, "E": "0.0739", "h_a": "0.5868"},
                       strict=True)
    assert report.summary == {"correct": 3, "rounding": 0, "carried": 0, "wrong": 0}
    assert report.accepted and report.exit_status == 0
    assert json.loads(json.dumps(report.to_json()))["summary"]["correct"] == 3
    with pytest.raises(sb.SymbackpropError, match="band"):
        sb.verify(problem, {"E": "0.0739"}, band=-1)


def test_missing_claims_file_and_bad_problem(cli, tmp_path):
    r = cli("verify", "net-221", tmp_path / "nope.txt")
    assert r.returncode == 2 and "nope.txt" in r.stderr and "no such file" in r.stderr
    r = cli("verify", "net-2211", DATA / "net-221-slides.claims")
    assert r.returncode == 2 and r.stderr.startswith("error:")


# ------------------------------------------------------------------ random graphs

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.oracle import _parse  # noqa: E402
from tests.test_oracle import random_graphs  # noqa: E402


def rounded(value, k: int) -> str:
    return str(Decimal(str(sp.N(value, 40))).quantize(Decimal(1).scaleb(-k), ROUND_HALF_UP))


def oracle_claims(table: dict, k: int) -> dict[str, str] | None:
    """Every node value, gradient and updated parameter by the oracle, rounded to k
    decimals; None when some value is too large to hold k decimals in 25 digits."""
    value, grads, full, symbols, point = graph_oracle(table)
    output = list(table["graph"])[-1]
    exact = {n: sp.N(e.xreplace(point), 40) for n, e in full.items()}
    exact.update({f"d{output}/d{leaf}": g for leaf, g in grads.items()})
    rate = sp.Rational(str(table["learning_rate"]))
    for p, v in table["parameters"].items():
        exact[f"{p}_new"] = sp.Rational(str(v)) - rate * grads[p]
    if any(not x.is_finite or abs(x) > 10**6 for x in exact.values()):
        return None
    return {key: rounded(x, k) for key, x in exact.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs(), st.integers(1, 6))
def test_exact_values_rounded_are_always_correct(table, k):
    problem = sb.load_dict(table)
    assume(not problem.solve().warnings)
    claims = oracle_claims(table, k)
    assume(claims is not None)
    report = sb.verify(problem, claims)
    assert report.summary["correct"] == len(claims), report.to_text()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs(), st.integers(1, 6), st.data())
def test_a_number_off_by_more_than_the_band_is_never_accepted(table, k, data):
    """One node value moved by 4 to 50 units of its last digit (the band is 2), the
    others rounded right. Where the node's own inputs, rounded as claimed, could move
    its value by more than half a unit (sum of |d node / d input| > 1, by sympy.diff
    of the node's expression), rounding could explain the number, so those draws are
    left out."""
    problem = sb.load_dict(table)
    assume(not problem.solve().warnings)
    claims = oracle_claims(table, k)
    assume(claims is not None)
    node = data.draw(st.sampled_from(list(table["graph"])))
    leaves = {**table.get("inputs", {}), **table.get("parameters", {})}
    names = {n: sp.Symbol(n, real=True) for n in [*leaves, *table["graph"]]}
    expr = _parse(table["graph"][node], names)
    point = {names[n]: sp.Rational(str(v)) for n, v in leaves.items()}
    _, _, full, symbols, leaf_point = graph_oracle(table)
    for other in table["graph"]:
        point[names[other]] = full[other].xreplace(leaf_point)
    inputs = [s for s in expr.free_symbols if s.name in table["graph"]]
    try:
        sensitivity = sum((abs(sp.N(sp.diff(expr, s).xreplace(point), 30)) for s in inputs),
                          sp.S.Zero)
    except (TypeError, ValueError):
        sensitivity = sp.oo
    assume(sensitivity.is_finite and sensitivity <= 1)
    units = data.draw(st.integers(4, 50)) * data.draw(st.sampled_from([-1, 1]))
    claims[node] = str(Decimal(claims[node]) + units * Decimal(1).scaleb(-k))
    report = sb.verify(problem, claims)
    verdict = {v.key: v for v in report.verdicts}[node]
    assert not verdict.accepted, (node, claims[node], verdict.note)
    assert report.exit_status == 1


# ------------------------------------------------------------------ the marked sheet


def test_marked_sheet_compiles_and_marks_every_number(cli, tmp_path):
    import shutil
    import subprocess

    if not shutil.which("latexmk") or not shutil.which("pdftotext"):
        pytest.skip("TeX (latexmk) and poppler (pdftotext) are needed")
    claims = tmp_path / "sheet.txt"
    claims.write_text((DATA / "net-322-table.claims").read_text())
    before = claims.read_bytes()
    r = cli("verify", "net-322", claims, "--format", "tex,pdf", "-o", tmp_path / "out")
    assert r.returncode == 1, r.stderr
    tex = (tmp_path / "out" / "sheet-marked.tex").read_text()
    pdf = tmp_path / "out" / "sheet-marked.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                          text=True, check=True).stdout
    assert text.count("wrong") >= 8 and "correct" in text and "rounded" in text
    assert "Corrections" in text
    assert "0.001984" in text  # the correction of dE/dw1 = 0.0012
    assert "46 claims" in text
    assert "\\frac{\\partial E}" in tex
    assert claims.read_bytes() == before
    assert "46 claims" in r.stdout  # the table still goes to stdout


@pytest.mark.slow
def test_marked_sheet_escapes_and_reports_carried(tmp_path):
    from symbackprop.render.sheet import render_report

    report = sb.verify("mlp-relu-bce", DATA / "mlp-relu-bce-handout.claims")
    tex = render_report(report, "tex")
    assert tex.count(r"& \vfyMark{carried} &") == 23  # table rows
    assert "copied the number given for" in tex  # the note of dL/dW1[0][1]
    sheet = render_report(sb.verify("net-221", DATA / "net-221-slides.claims"), "tex")
    from symbackprop.render.printer import latex_name

    # a quoted number reads in the table's notation, not as a raw key (nor unescaped)
    assert rf"\({latex_name('h_a')} = 0.5868\)" in sheet and "h_a = 0.5868" not in sheet
    assert rf"\({latex_name('a2[0]')} = 0.7986\)" in tex and "a2[0]" not in tex
    assert render_report(report, "pdf").startswith(b"%PDF")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs(), st.integers(2, 6))
def test_a_hand_computed_forward_pass_is_always_accepted(table, k):
    """A student computes every node from the values already on the sheet and writes it
    rounded to k decimals, so errors accumulate: every number is accepted. The student's
    arithmetic here is the oracle's own parse of each equation (SymPy's parser), not the
    engine's."""
    problem = sb.load_dict(table)
    assume(not problem.solve().warnings)
    leaves = {**table.get("inputs", {}), **table.get("parameters", {})}
    names = {n: sp.Symbol(n, real=True) for n in [*leaves, *table["graph"]]}
    sheet_values = {names[n]: sp.Rational(str(v)) for n, v in leaves.items()}
    claims = {}
    for node, text in table["graph"].items():
        value = sp.N(_parse(text, names).xreplace(sheet_values), 40)
        assume(value.is_finite and abs(value) < 10**6)
        claims[node] = rounded(value, k)
        sheet_values[names[node]] = sp.Rational(claims[node])
    report = sb.verify(problem, claims)
    assert report.accepted, report.to_text()


def test_a_note_prints_no_digit_past_what_was_recomputed():
    """A claim of 0e9 is judged to 30 decimals; its note said w5 = 0.2 with dE/dw5 = 0
    "would give 0.19999999999999999999999999999999": digits of the recomputation's binary
    noise. w5 - η·0 is 0.2 exactly (the problem's w5 = 0.2), so every digit shown is 0.2's."""
    w5 = Decimal(load_toml(examples.example_text("net-221"))["parameters"]["w5"])
    (_, v) = sb.verify("net-221", {"dE/dw5": "0e9", "w5_new": "0e9"}).verdicts
    assert v.status in ("wrong", "carried")
    own = v.note.split("would give ")[1].split(",")[0]
    assert Decimal(own) == w5, v.note


@pytest.mark.parametrize("given", ["-0.94", "0.3", "1.7"])
def test_a_cancellation_is_recomputed_as_zero(given):
    """dvar/dμ of a batch is −2/N·Σ(x − μ), which is 0 whatever the batch: recomputed
    from the sheet's own a1[2][0] the note says "would give 0", not the 30-digit
    arithmetic's leftover (it once said 9.860761e-32)."""
    report = sb.verify(sb.load("batchnorm"), {"a1[2][0]": given, "dvar2[0]/dmu2[0]": "-0.11976"})
    note = {v.key: v.note for v in report.verdicts}["dvar2[0]/dmu2[0]"]
    assert f"the given a1[2][0] = {given} would give 0, not" in note


def test_a_recomputation_keeps_its_certain_digits():
    """Digits relative to the numbers a recomputation is made from: a product of numbers
    near 1 keeps its 27 digits, a value far below them its digits down to their 27th
    decimal, and noise below that is 0."""
    from symbackprop.verify.diagnose import CERTAIN_DIGITS, certain

    product = sp.Float("0.30", 30) * sp.Float("-0.9299", 30)
    assert certain(product, Decimal("0.9299")) == Decimal("-0.27897")
    small = sp.Float("1.8347e-22", 30)
    assert certain(small, Decimal("1")) == Decimal("1.8347e-22").quantize(Decimal(10) ** -26)
    noise = sp.Float(10, 30) ** -(CERTAIN_DIGITS + 3)
    assert certain(noise, Decimal("1")) == 0


def test_an_impossible_number_on_the_sheet_is_no_crash():
    """A negative variance on the sheet makes the recomputation of every later value
    undefined (the square root of a negative number, then σ of it): the later wrong value
    is still judged, its note naming the number that made it undefined."""
    report = sb.verify(sb.load("batchnorm"), {"var2[0]": "-0.5", "a5[0][0]": "0.9"})
    verdicts = {v.key: v for v in report.verdicts}
    assert str(verdicts["a5[0][0]"].status) == "wrong"
    assert "var2[0] = -0.5" in verdicts["a5[0][0]"].note


def test_the_piecewise_functions_of_an_undefined_number_are_undefined():
    """relu, step, leaky_relu, max and min compare their argument with 0; of a NaN (a
    recomputation from a sheet's impossible number) they give NaN instead of raising."""
    from symbackprop import functions as f

    nan = sp.Float("nan")
    for value in (f.relu(nan), f.step(nan), f.leaky_relu(nan), f.maximum(nan, 1),
                  f.minimum(1, nan), f.sigmoid(nan).evalf(), f.relu(sp.Symbol("z")).subs("z", nan)):
        assert value.evalf() is sp.nan
