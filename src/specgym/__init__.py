"""specgym: reward misspecification and goal misgeneralization, runnable in seconds.

Public API (explicit re-exports only)::

    env, params = specgym.make("boat-race", split="deploy")
    scenario = specgym.get_scenario("coin-run")
    summary = specgym.run_scenario(scenario, {"random_percent": 0.1}, {"environment": None})
    summary = specgym.evaluate(my_policy, "boat-race", split="deploy")   # any policy, scored as runs are
    diagnosis = specgym.diagnose_scenario(scenario, config=specgym.DiagnoseConfig(seeds=4))
    summary = specgym.rlhf_scenario("glitch-walker", labels=(25, 100, 400))
    summary = specgym.run_seq_step("overoptimization", {"seeds": 3})

With Gymnasium installed, importing specgym registers ``specgym/<scenario>-v0`` for ``gymnasium.make``;
``specgym.gymnax.make`` gives gymnax environments (both are optional extras).
"""

import importlib as _importlib
import importlib.util as _importlib_util
from typing import TYPE_CHECKING

from specgym.envs import Env, Step, TabularMDP, Transition, env_ids, make, to_tabular
from specgym.rewards import Reward, constant, event, potential_shaping
from specgym.rl.ppo import PPOConfig, make_train
from specgym.rl.value_iteration import solve
from specgym.scenarios import Fix, Scenario, ScenarioError, Setting, register, scenario_ids
from specgym.scenarios import get as get_scenario

# Imported on first use (they pull in plotting, evaluation and the learners), so `import specgym` stays fast.
_LAZY = {
    "run_scenario": "specgym.run",
    "evaluate": "specgym.scoring",
    "diagnose_scenario": "specgym.diagnose.diagnosis",
    "DiagnoseConfig": "specgym.diagnose.diagnosis",
    "rlhf_scenario": "specgym.runners.rlhf",
    "run_seq_step": "specgym.seq.steps",
}

if TYPE_CHECKING:
    from specgym.diagnose.diagnosis import DiagnoseConfig, diagnose_scenario
    from specgym.run import run_scenario
    from specgym.runners.rlhf import rlhf_scenario
    from specgym.scoring import evaluate
    from specgym.seq.steps import run_seq_step


def __getattr__(name: str):
    """The lazily imported names of ``_LAZY``, kept in the module once loaded."""
    if name not in _LAZY:
        raise AttributeError(f"module 'specgym' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "evaluate", "diagnose_scenario", "DiagnoseConfig", "rlhf_scenario", "run_seq_step",
]
