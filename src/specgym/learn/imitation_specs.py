"""What an imitation run needs to know about a scenario beyond the Scenario itself.

A scenario module registers its spec next to its ``SCENARIO``; scenarios
without one are imitated with the defaults (the exact expert on the real
world, behavioural cloning and DAgger only).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

_SPECS: dict[str, "ImitationSpec"] = {}


@dataclasses.dataclass(frozen=True)
class ImitationSpec:
    demo_episodes: int = 64
    """Expert episodes demonstrated on the training levels by default."""
    label_budget: int | None = None
    """Expert-labelled states for BC and DAgger (default: as many as the demonstrations hold)."""
    expert_view: Callable[[Any], Any] | None = None
    """params -> the world as the expert believes it (default: the real one)."""
    board_side: int | None = None
    """Side of the (wall, agent, goal) board for procedure cloning; None where it does not apply."""
    irl: Any = None
    """An ``learn.maxent_irl.IRLTask`` where maximum-entropy IRL applies."""
    demonstrator: Callable[..., Any] | None = None
    """(env, params, key, episodes, env_id) -> Demos, instead of the exact optimal expert."""


def register_imitation(scenario_id: str, spec: ImitationSpec) -> None:
    _SPECS[scenario_id] = spec


def imitation_spec(scenario_id: str) -> ImitationSpec:
    return _SPECS.get(scenario_id, ImitationSpec())
