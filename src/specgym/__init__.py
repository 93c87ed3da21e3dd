"""specgym: reward misspecification and goal misgeneralization, runnable in seconds.

Public API (explicit re-exports only)::

    env, params = specgym.make("boat-race", split="deploy")
    scenario = specgym.get_scenario("coin-run")
    summary = specgym.run_scenario(scenario, {"random_percent": 0.1}, {"environment": None})
"""

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


__all__ = [
    "Env", "Step", "Transition", "TabularMDP", "env_ids", "make", "to_tabular",
    "Reward", "constant", "event", "potential_shaping",
    "PPOConfig", "make_train", "solve",
    "Fix", "Scenario", "ScenarioError", "Setting", "get_scenario", "register", "scenario_ids", "run_scenario",
]
