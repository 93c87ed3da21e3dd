"""specgym: reward misspecification and goal misgeneralization, runnable in seconds.

Public API (explicit re-exports only)::

    env, params = specgym.make("boat-race", split="deploy")
    scenario = specgym.get_scenario("coin-run")
    summary = specgym.run_scenario(scenario, {"random_percent": 0.1}, {"environment": None})
    summary = specgym.evaluate(my_policy, "boat-race", split="deploy")   # any policy, scored as runs are

With Gymnasium installed, importing specgym registers ``specgym/<scenario>-v0`` for ``gymnasium.make``;
``specgym.gymnax.make`` gives gymnax environments (both are optional extras).
"""

import importlib.util as _importlib_util

from specgym.envs import Env, Step, TabularMDP, Transition, env_ids, make, to_tabular
from specgym.rewards import Reward, constant, event, potential_shaping
from specgym.rl.ppo import PPOConfig, make_train
from specgym.rl.value_iteration import solve
from specgym.scenarios import Fix, Scenario, ScenarioError, Setting, register, scenario_ids
from specgym.scenarios import get as get_scenario


def run_scenario(*args, **kwargs):
    """See :func:`specgym.run.run_scenario` (imported lazily: it pulls in plotting)."""
    from specgym.run import run_scenario as _run

    return _run(*args, **kwargs)


def evaluate(*args, **kwargs):
    """See :func:`specgym.scoring.evaluate`: score any policy as ``specgym run`` scores its own (imported lazily)."""
    from specgym.scoring import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def _register_gymnasium() -> None:
    """Gymnasium ids for every scenario, only where Gymnasium is installed (it is an optional extra)."""
    if _importlib_util.find_spec("gymnasium") is not None:
        from specgym.gymnasium import register_envs

        register_envs()


_register_gymnasium()

__all__ = [
    "Env", "Step", "Transition", "TabularMDP", "env_ids", "make", "to_tabular",
    "Reward", "constant", "event", "potential_shaping",
    "PPOConfig", "make_train", "solve",
    "Fix", "Scenario", "ScenarioError", "Setting", "get_scenario", "register", "scenario_ids", "run_scenario",
    "evaluate",
]
