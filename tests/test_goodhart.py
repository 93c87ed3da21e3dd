"""Goodhart curves: best-of-n selection against a brute-force loop, and the shape each variant must show."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from specgym.goodhart import best_of_n, goodhart_command, goodhart_curves, pressure_grid


def test_best_of_n_matches_a_python_loop():
    rng = np.random.default_rng(0)
    proxy, true = rng.integers(0, 5, (7, 30)).astype(float), rng.normal(size=(7, 30))  # ties included
    best_proxy, best_true = best_of_n(proxy, true)
    for r in range(7):
        for n in range(1, 31):
            assert best_proxy[r, n - 1] == proxy[r, :n].max()
            assert proxy[r, :n][np.flatnonzero(true[r, :n] == best_true[r, n - 1])].max() == proxy[r, :n].max()


def test_pressure_grid_spans_one_to_max():
    grid = pressure_grid(1000)
    assert grid[0] == 1 and grid[-1] == 1000 and np.all(np.diff(grid) > 0)


@pytest.fixture(scope="module")
def pump_curves():
    return goodhart_curves("outcome-pump", max_n=1000, repeats=600)


def _at(bands, n_grid, n):
    return {k: np.asarray(v)[list(n_grid).index(n)] for k, v in bands.items()}


def test_proxy_rises_with_pressure_in_every_variant(pump_curves):
    assert set(pump_curves["variants"]) == {"regressional", "extremal", "causal", "adversarial"}
    for bands in pump_curves["variants"].values():
        assert np.all(np.diff(bands["proxy"]["mean"]) >= 0)


@pytest.mark.parametrize("variant", ["extremal", "causal", "adversarial"])
def test_true_value_rises_then_falls(pump_curves, variant):
    n, bands = pump_curves["n"], pump_curves["variants"][variant]["true"]
    peak_n = pump_curves["variants"][variant]["peak_n"]
    assert 1 < peak_n < 100
    start, peak, end = _at(bands, n, 1), _at(bands, n, peak_n), _at(bands, n, 1000)
    assert peak["low"] > start["high"]  # a real rise: the 95% bands do not overlap
    assert end["high"] < start["low"] - 0.5  # then a fall far below where it started


def test_regressional_true_value_keeps_rising_while_the_gap_grows(pump_curves):
    n, v = pump_curves["n"], pump_curves["variants"]["regressional"]
    true, proxy = np.asarray(v["true"]["mean"]), np.asarray(v["proxy"]["mean"])
    assert v["peak_n"] >= 300 and true[-1] > true[0] + 0.5
    i1, i10, i100 = (list(n).index(k) for k in (1, 10, 100))
    early = (true[i10] - true[i1]) / (proxy[i10] - proxy[i1])
    late = (true[-1] - true[i100]) / (proxy[-1] - proxy[i100])
    assert late < 0.25 * early  # each unit of proxy buys ever less true value


@pytest.mark.parametrize("metric", ["count", "weight"])
def test_nail_factory_extremal_rises_then_falls_for_both_metrics(metric):
    curves = goodhart_curves("nail-factory", max_n=1000, repeats=400, variants=("extremal",), settings={"metric": metric})
    n, bands = curves["n"], curves["variants"]["extremal"]["true"]
    peak_n = curves["variants"]["extremal"]["peak_n"]
    assert _at(bands, n, peak_n)["low"] > _at(bands, n, 1)["high"]
    assert _at(bands, n, 1000)["mean"] < 0.1 * _at(bands, n, 1)["mean"]


def test_command_writes_json_and_png(tmp_path):
    result = CliRunner().invoke(goodhart_command, ["outcome-pump", "--max-n", "50", "--repeats", "50",
                                                   "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    folder = tmp_path / "goodhart-outcome-pump"
    assert json.loads((folder / "goodhart.json").read_text())["n"] == printed["n"]
    assert (folder / "goodhart.png").read_bytes()[:4] == b"\x89PNG"


def test_command_names_the_problem_for_other_scenarios(tmp_path):
    result = CliRunner().invoke(goodhart_command, ["recommender", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not a choice among sampled outcomes" in result.output
    result = CliRunner().invoke(goodhart_command, ["outcome-pump", "--metric", "count", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown setting 'metric'" in result.output
