"""Hyperband and the asynchrony of ASHA and of `tune.run`, on a simulated clock (H1).

`SimulatedClock` is a trial executor whose trials take a chosen time: ``next_done`` returns the
trial that finishes first on a virtual clock, as a pool of ``jobs`` workers would. It makes
"a straggler holds up nobody" a deterministic, millisecond test.
"""
import heapq
import math

import pytest

from deepnotes import tune
from deepnotes.tune import halving
from deepnotes.tune.executors import TrialExecutor, call
from deepnotes.tune.space import uniform


class SimulatedClock(TrialExecutor):
    """``jobs`` virtual workers; a call ``fn(config, *rest)`` takes ``duration(config, *rest)`` time units."""

    name = "simulated"

    def __init__(self, jobs, duration):
        super().__init__()
        self.jobs, self.duration, self.now = jobs, duration, 0.0
        self._running = []       # heap of (finish time, key, outcome)
        self.finished = []       # (finish time, key, args) in completion order
        self.submitted = []      # (how many calls had finished, args)

    def submit(self, fn, *args):
        assert len(self._running) < self.jobs, "the caller submitted more calls than it has workers"
        key = self._key()
        self.submitted.append((len(self.finished), args))
        heapq.heappush(self._running, (self.now + self.duration(*args), key, call(fn, args), args))
        return key

    def next_done(self):
        self.now, key, outcome, args = heapq.heappop(self._running)
        self.finished.append((self.now, key, args))
        return key, outcome


def _learning_curve(config, resource):  # converges to (x - 0.3)^2; early values are noisy
    return (config["x"] - 0.3) ** 2 + math.sin(40 * config["x"]) ** 2 / resource


SPACE = {"x": uniform(0, 1)}


@pytest.mark.covers("H1")
def test_hyperband_brackets_follow_the_schedule():
    result = halving.hyperband(_learning_curve, SPACE, min_resource=1, max_resource=9, eta=3, seed=0)
    brackets = result["brackets"]
    assert [b["s"] for b in brackets] == [2, 1, 0]
    assert [b["n_configs"] for b in brackets] == [9, 5, 3]          # ceil(3 / (s + 1) * 3^s)
    assert [b["min_resource"] for b in brackets] == [1, 3, 9]
    assert [[len(r) for r in b["rungs"]] for b in brackets] == [[9, 3, 1], [5, 1], [3]]
    assert all(b["rungs"][-1][0]["resource"] == 9 for b in brackets)  # every bracket ends at full resource
    # one searcher draws every config: no config is tried twice across brackets
    firsts = [t["config"]["x"] for b in brackets for t in b["rungs"][0]]
    assert len(set(firsts)) == 17
    finals = [t for b in brackets for t in b["rungs"][-1]]
    assert result["best"]["value"] == min(t["value"] for t in finals)
    assert result["cost"] == sum(b["cost"] for b in brackets) == (9 + 9 + 9) + (15 + 9) + 27
    maxed = halving.hyperband(lambda c, r: -_learning_curve(c, r), SPACE, 1, 9, 3, mode="max", seed=0)
    assert maxed["best"]["value"] == pytest.approx(-result["best"]["value"])


@pytest.mark.covers("H1")
def test_asha_promotes_without_waiting_for_a_straggler():
    # the first config drawn takes 1000 time units per unit of resource; the others take 1
    def duration(config, resource):
        return resource * (1000.0 if config == first else 1.0)

    first = tune.RandomSearch(SPACE, seed=1).ask()

    clock = SimulatedClock(jobs=3, duration=duration)
    result = halving.asha(_learning_curve, SPACE, n_trials=30, min_resource=1, max_resource=9, eta=3, seed=1,
                          executor=clock)
    first_straggler_done = next(t for t, _, (config, _) in clock.finished if config == first)
    top = [t for t in clock.finished if t[2][1] == 9]
    assert top and top[0][0] < first_straggler_done  # a config reached the last rung while a straggler ran
    # promotions start as soon as a rung has eta results, long before all 30 bottom-rung trials are in
    rung = [j["rung"] for j in result["jobs"]]
    assert rung.index(1) < 10 and rung.count(0) == 30
    # each promotion was in the top 1/eta of its rung as the rung stood when the promotion was made
    levels = halving.rungs(1, 9, 3)
    for n_done, (config, resource) in clock.submitted:
        if resource == levels[0]:
            continue
        below = levels[levels.index(resource) - 1]
        rung_then = sorted(_learning_curve(c, r) for _, _, (c, r) in clock.finished[:n_done] if r == below)
        assert len(rung_then) >= 3 and _learning_curve(config, below) in rung_then[:len(rung_then) // 3]
    # synchronous successive halving on the same clock would wait for the stragglers at every rung
    assert clock.now < 1000 * 9


@pytest.mark.covers("H1")
def test_run_hands_out_new_trials_while_a_slow_one_runs():
    # trial 0 is slow; with 2 workers the other worker must go through the rest meanwhile
    def duration(config):
        return 100.0 if config["x"] == first["x"] else 1.0

    first = tune.RandomSearch(SPACE, seed=0).ask()
    clock = SimulatedClock(jobs=2, duration=duration)
    bo = tune.BayesianOptimization(SPACE, seed=0, n_initial=3, n_candidates=64)
    results = tune.run(lambda c: (c["x"] - 0.3) ** 2, SPACE, searcher=bo, n_trials=12, executor=clock)
    order = [key for _, key, _ in clock.finished]
    assert order[-1] == 0 and sorted(order) == list(range(12))
    assert len(results.trials) == 12 and all(t["status"] == "ok" for t in results.trials)
    # the searcher learned from 11 trials before the slow one came back
    assert len(bo.history) == 12 and bo.history[-1][0] == first
