"""The Scenario: an env, its level splits, both rewards, a trainer and the documented fixes.

Everything downstream (training, evaluation, reports) takes a ``Scenario`` and
never asks which one it is. A fix is a small function on a :class:`Setup`, named
under the lever it pulls:

* ``reward``      - replace the specified reward function;
* ``environment`` - change the dynamics or the training level distribution;
* ``algorithm``   - change the learner or its settings.

What one command needs of one scenario (its imitation spec, its RLHF
recommendation, its evaluators' limited views, whether ``specgym detect`` pools
it) is an optional field here, set by the scenario's own module, so adding a
scenario never edits a generic module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp

from specgym.envs.base import Env
from specgym.envs.procedural import ProceduralEnv, ProceduralParams
from specgym.envs.registry import SPLITS
from specgym.errors import ScenarioError
from specgym.feedback.evaluators import View
from specgym.learn.imitation_specs import ImitationSpec
from specgym.learn.rlhf import RLHFRecommendation
from specgym.rl.ppo import PPOConfig
from specgym.settings import field_types, parse_value

LEVERS = ("reward", "environment", "algorithm")


def frozen(value):
    """A hashable copy of settings or fixes, to key a cache by (dicts become sorted item tuples, lists tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(frozen(v) for v in value)
    return value


def parse_fix_items(fixes: dict[str, str | None] | str | None) -> dict[str, str | None]:
    """Fixes as lever -> name, from that dict itself or from ``"lever=name,lever=name"`` text."""
    if fixes is None or isinstance(fixes, dict):
        return dict(fixes or {})
    parsed: dict[str, str | None] = {}
    for item in filter(None, (part.strip() for part in fixes.split(","))):
        lever, sep, name = (x.strip() for x in item.partition("="))
        if not sep or not lever or not name:
            raise ScenarioError(f"a fix is written lever=name, not {item!r}; levers: {', '.join(LEVERS)}")
        parsed[lever] = name
    return parsed


@dataclasses.dataclass(frozen=True)
class Setup:
    """A concrete experiment: what the trainer and the evaluator need."""

    env: Env
    train_params: Any
    """The training split's fixed level set: what the train scores are measured on."""
    deploy_params: Any
    trainer: PPOConfig
    train_levels: ProceduralParams | None = None
    """Where the trainer draws a fresh level at every reset (the distribution ``train_params`` is a sample
    of); None: it trains on ``train_params`` itself."""

    def with_specified(self, reward) -> Setup:
        """The same experiment with the learner trained on ``reward`` (the usual reward-lever fix)."""
        return dataclasses.replace(self, env=self.env.with_rewards(specified=reward))

    def with_splits(self, splits: dict) -> Setup:
        """The same experiment on other level sets ``{"train": params, "deploy": params}`` (and, where given,
        the ``"train_levels"`` the trainer draws from)."""
        return dataclasses.replace(self, train_params=splits["train"], deploy_params=splits["deploy"],
                                   train_levels=splits.get("train_levels"))

    def with_training_split(self, splits: dict) -> Setup:
        """The same deployment, trained on the ``"train"`` split of ``splits`` (an environment-lever fix)."""
        return dataclasses.replace(self, train_params=splits["train"], train_levels=splits.get("train_levels"))

    def training(self) -> tuple[Env, Any]:
        """``(env, params)`` the learner trains on: fresh procedural levels where the split has them."""
        if self.train_levels is None:
            return self.env, self.train_params
        return ProceduralEnv(self.env), self.train_levels


@dataclasses.dataclass(frozen=True)
class Setting:
    """A scenario knob a user sets with ``--set NAME=VALUE``: its default, one line of help and a check."""

    default: Any
    help: str
    check: Callable[[Any], bool] = lambda value: True
    """True for acceptable values."""
    kind: Any = None
    """The type a value given as text is converted to (int, float, bool, str, tuple[int, ...]); None: the default's."""

    @property
    def value_type(self) -> Any:
        return type(self.default) if self.kind is None else self.kind


def max_steps_setting(default: int) -> Setting:
    """The episode time limit as a scenario setting."""
    return Setting(default, "episode length in steps, a positive integer", lambda v: isinstance(v, int) and v > 0,
                   kind=int)


def procedural_setting(default: bool = True) -> Setting:
    """Whether training draws a fresh level at every reset (True) or reuses the fixed training level set."""
    return Setting(default, "train on a fresh level at every reset (true) or on the fixed training set only (false)",
                   lambda v: isinstance(v, bool), kind=bool)


def seed_setting(what: str) -> Setting:
    """The seed of a level generator as a scenario setting (NumPy's generators take no negative seed)."""
    return Setting(0, f"seed of {what}, an integer 0 or more", lambda v: isinstance(v, int) and v >= 0, kind=int)


@dataclasses.dataclass(frozen=True)
class Fix:
    """One remedy on one lever (reward, environment, algorithm, ...): a description and how it changes the setup."""

    description: str
    apply: Callable[[Setup, dict], Setup]
    """(setup, settings) -> the fixed setup."""


@dataclasses.dataclass(frozen=True)
class Goal:
    """A plausible behavioural objective, made measurable.

    ``reward`` scores a transition as a pursuer of this goal would (a reward
    function like the specified one); an episode *achieves* the goal when its
    return under ``reward`` exceeds ``threshold``. Diagnosis fits behaviour to
    these rewards and counts achievements; a goal without a reward is only described.
    """

    description: str
    reward: Any = None
    """(transition, params) -> scalar, or None where the goal is not measurable."""
    threshold: float = 0.0
    """An episode achieves the goal when its return under ``reward`` is above this."""
    intended: bool = False
    """True for the goal the designer meant (the intended reward's behaviour)."""

    def __str__(self) -> str:
        return self.description


def env_card(module: ModuleType) -> str:
    """The env card of a scenario: the docstring of its env module, which must have one."""
    if not module.__doc__:
        raise ValueError(f"{module.__name__} has no docstring to serve as its env card")
    return module.__doc__


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A failure mode made runnable: its env and splits, default trainer, settings, fixes and candidate goals.

    Built-in scenarios are modules of ``specgym.scenarios``; a user's own is any instance (docs/custom-scenario.md).
    """

    id: str
    story: str
    """One line for ``specgym list``."""
    card: str
    """The env card: story, reading, rewards, levels, failure, fixes."""
    build: Callable[[dict], tuple[Env, dict]]
    """settings -> (env, {"train": params, "deploy": params}), before any fix."""
    trainer: PPOConfig
    """Default algorithm settings."""
    settings: dict[str, Setting] = dataclasses.field(default_factory=dict)
    fixes: dict[str, dict[str, Fix]] = dataclasses.field(default_factory=dict)
    """lever -> fix name -> fix; the first fix of each lever is the canonical one."""
    fixes_combine: bool = False
    """True where the failure has a root cause on several levers and only their canonical fixes applied together
    remove it (glitch-walker: the bug and the distance reward); False where each canonical fix is a remedy alone."""
    sweeps: dict[str, tuple] = dataclasses.field(default_factory=dict)
    """Documented sweeps, setting -> the values its page tabulates (``python -m bench.sweeps`` measures them)."""
    events: tuple[str, ...] = ()
    """Events to report, in the order that tells the story."""
    candidate_goals: dict[str, Goal | str] = dataclasses.field(default_factory=dict)
    """Plausible behavioural objectives, name -> :class:`Goal` (or a bare description)."""
    readings: tuple[str, ...] = ()
    imitation: ImitationSpec = dataclasses.field(default_factory=ImitationSpec)
    """What ``specgym imitate`` needs beyond the env (demonstrations, the expert's view, IRL, procedure cloning)."""
    rlhf: RLHFRecommendation = dataclasses.field(default_factory=RLHFRecommendation)
    """The loop and trainer settings ``specgym rlhf`` starts from (the command line wins)."""
    views: dict[str, View] = dataclasses.field(default_factory=dict)
    """Limited views, evaluator name -> :class:`View`: what a simulated evaluator of ``specgym rlhf`` sees."""
    reward_gaming: bool = False
    """True where the documented failure is gaming the specified reward (more proxy, less intended) and the
    canonical fixes remove it: ``specgym detect`` pools these scenarios by default."""

    def goals(self) -> dict[str, Goal]:
        """The candidate goals as :class:`Goal` objects (a bare description becomes an unmeasurable goal)."""
        return {name: g if isinstance(g, Goal) else Goal(str(g)) for name, g in self.candidate_goals.items()}

    def goal_descriptions(self) -> dict[str, str]:
        """name -> description of every candidate goal."""
        return {name: goal.description for name, goal in self.goals().items()}

    def remedies(self) -> list[dict[str, str]]:
        """The documented remedies, each as lever -> fix: every canonical fix alone, or (``fixes_combine``) all of
        them together."""
        canonical = {lever: next(iter(self.fixes[lever])) for lever in LEVERS if self.fixes.get(lever)}
        if self.fixes_combine:
            return [canonical] if canonical else []
        return [{lever: name} for lever, name in canonical.items()]

    def available_fixes(self) -> dict[str, list[str]]:
        return {lever: list(self.fixes.get(lever, {})) for lever in LEVERS}

    def setting_type(self, name: str) -> Any:
        """The declared type of a scenario setting or trainer field called ``name``."""
        if name in self.settings:
            return self.settings[name].value_type
        trainer_fields = field_types(PPOConfig)
        if name not in trainer_fields:
            valid = sorted(set(self.settings) | set(trainer_fields))
            raise ScenarioError(f"unknown setting {name!r} for {self.id}; valid: {', '.join(valid)}")
        return trainer_fields[name]

    def parse_override(self, name: str, value: Any) -> Any:
        """``value`` for setting or trainer field ``name``; text is converted by the declared type."""
        kind = self.setting_type(name)
        return parse_value(name, value, kind) if isinstance(value, str) and kind is not str else value

    def parse_overrides(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Every override through :meth:`parse_override` (an unknown name is refused)."""
        return {name: self.parse_override(name, value) for name, value in overrides.items()}

    def resolve_settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Scenario settings with ``overrides`` applied; trainer fields are left to ``resolve_trainer``."""
        values = {name: s.default for name, s in self.settings.items()}
        for name, value in self.parse_overrides(overrides).items():
            if name in self.settings:
                if not self.settings[name].check(value):
                    raise ScenarioError(f"bad value {value!r} for setting {name!r}: {self.settings[name].help}")
                values[name] = value
        return values

    def setup(self, overrides: dict[str, Any] | None = None, fixes: dict[str, str | None] | None = None) -> Setup:
        """Build the experiment for ``overrides`` (settings or trainer fields) with ``fixes`` applied."""
        overrides = self.parse_overrides(overrides or {})
        trainer_fields = field_types(PPOConfig)
        settings = self.resolve_settings(overrides)
        env, splits = self.build(settings)
        trainer_overrides = {k: v for k, v in overrides.items() if k in trainer_fields}
        trainer = _trainer(self.trainer, trainer_overrides)
        setup = Setup(env, splits["train"], splits["deploy"], trainer, splits.get("train_levels"))
        for lever, name in (fixes or {}).items():
            if lever not in LEVERS:
                raise ScenarioError(f"unknown lever {lever!r}; valid: {', '.join(LEVERS)}")
            if name is None:
                continue
            options = self.fixes.get(lever, {})
            if name not in options:
                valid = ", ".join(options) or "none"
                raise ScenarioError(f"unknown {lever} fix {name!r} for {self.id}; valid: {valid}")
            setup = options[name].apply(setup, settings)
        self.check_events(setup.env, setup.train_params)
        # the user's own trainer values win over an algorithm fix's
        return dataclasses.replace(setup, trainer=_trainer(setup.trainer, trainer_overrides))

    def split_env(self, split: str = "train", overrides: dict[str, Any] | None = None,
                  fixes: dict[str, str | None] | str | None = None) -> tuple[Env, Any]:
        """``(env, params)`` of one split for a learner outside specgym (the gymnax and Gymnasium adapters).

        ``"train"`` is what specgym's own trainer trains on (a fresh procedural level at every reset where the
        scenario has them), ``"deploy"`` the deployment levels; ``fixes`` is lever -> fix, or ``"lever=name"``
        items separated by commas.
        """
        if split not in SPLITS:
            raise ScenarioError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
        setup = self.setup(overrides, parse_fix_items(fixes))
        return setup.training() if split == "train" else (setup.env, setup.deploy_params)

    def check_events(self, env: Env, params) -> None:
        """Refuse an event to report that ``env`` never records (it would show nothing, silently)."""
        recorded = recorded_events(env, params)
        unknown = [name for name in self.events if name not in recorded]
        if unknown:
            raise ScenarioError(f"scenario {self.id} reports event {unknown[0]!r}, which its env does not record; "
                                f"valid: {', '.join(recorded)}")


def recorded_events(env: Env, params) -> list[str]:
    """The names of the events ``env`` records in a step, read from an abstract trace (nothing runs)."""

    def events(key):
        _, state = env.reset(key, params)
        return env.transition(key, state.inner, jnp.asarray(0, jnp.int32), params).events

    return sorted(jax.eval_shape(events, jax.random.PRNGKey(0)))


def _trainer(base: PPOConfig, overrides: dict[str, Any]) -> PPOConfig:
    """``base`` with the user's trainer values, a bad value reported as a ScenarioError."""
    try:
        return dataclasses.replace(base, **overrides)
    except ValueError as error:
        raise ScenarioError(str(error)) from None
