"""What an imitation run needs to know about a scenario beyond its env, splits and rewards.

A scenario carries one as ``Scenario.imitation``; the default (the exact expert
on the real world, behavioural cloning and DAgger only) serves every scenario
that sets none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple


class ImitationRun(NamedTuple):
    """``specgym imitate <id> --method <method>`` with these ``(lever, fix)`` pairs as ``--fix``, and
    ``--demo-episodes`` / ``--label-budget`` where given (None: the scenario's own)."""

    method: str
    fixes: tuple[tuple[str, str], ...] = ()
    demo_episodes: int | None = None
    label_budget: int | None = None

    def budget(self) -> dict[str, int]:
        """The budgets this run sets, by option name."""
        return {name: value for name, value in (("demo_episodes", self.demo_episodes),
                                                ("label_budget", self.label_budget)) if value is not None}


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
    documented_runs: tuple[ImitationRun, ...] = ()
    """The imitation runs that show the scenario's failure and remedy where they are an imitator's: the
    fix-vs-optimum table (``python -m bench.fixes``) measures them beside its PPO rows."""
