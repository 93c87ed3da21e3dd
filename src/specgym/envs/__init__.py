"""Environments: the functional env contract, grid helpers, exact tabular models, the registry."""

from specgym.envs.base import Env, EnvState, Step, Transition
from specgym.envs.registry import env_ids, make, make_splits, register_env
from specgym.envs.tabular import TabularEnv, TabularMDP, to_tabular

__all__ = ["Env", "EnvState", "Step", "Transition", "TabularEnv", "TabularMDP", "to_tabular",
           "env_ids", "make", "make_splits", "register_env"]
