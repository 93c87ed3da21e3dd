"""Scenarios: an env, its splits, both rewards, a default trainer and the documented fixes."""

from specgym.scenarios.base import LEVERS, Fix, Goal, Scenario, ScenarioError, Setting, Setup
from specgym.scenarios.registry import get, register, scenario_ids

__all__ = ["LEVERS", "Fix", "Goal", "Scenario", "ScenarioError", "Setting", "Setup", "get", "register", "scenario_ids"]
