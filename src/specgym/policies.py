"""A policy from outside specgym, as the ``(act, policies)`` pair every rollout takes (``specgym.rollout``).

Three kinds, so an agent is scored where it was trained and not rewritten for us:

* ``"jax"`` - a JAX function ``(obs, key) -> action`` for one observation (rejax's ``make_act`` gives one);
  it runs inside the compiled rollout, vmapped over episodes;
* ``"numpy"`` - a Python callable ``obs -> action`` on one NumPy observation; the compiled rollout calls back
  into Python once per step of the whole batch;
* a run directory's ``policy.npz`` - the networks ``specgym run`` trained, one per seed.

A policy's mistakes end in one line naming the action space, never a traceback: a JAX function is traced once
on an abstract observation before anything runs (shape, dtype, an exception), a Python callable's every
answer is checked where it is given, and the rollout counts actions outside the space
(:class:`CountingInvalid`), which the caller turns into that line.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from specgym.errors import ScenarioError
from specgym.rl.policy_io import load_policies
from specgym.rollout import Act, Record, StepView, mlp_act

KINDS = ("auto", "jax", "numpy")


def describe_action_space(env) -> str:
    """The env's action space in words, for the one-line errors."""
    names = f" ({', '.join(env.action_names)})" if getattr(env, "action_names", ()) else ""
    return f"the action space is Discrete({env.num_actions}): one integer 0..{env.num_actions - 1}{names}"


def first_line(error: BaseException) -> str:
    """``Type: first line of the message`` (a traceback's worth of text is not one clear line)."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class OutsidePolicy(NamedTuple):
    """What a rollout needs of a policy, and what to say about it."""

    act: Act
    policies: Any
    """A batch over seeds (the saved networks, or seed numbers where one function acts for every seed)."""
    description: str
    problem: Callable[[], str | None]
    """After a rollout: the first mistake the policy made on the host side, or None."""
    key_seeds: int
    """The evaluation key is split into this many seed keys, of which the batch takes the first: the first k of a
    run's policies play the very episodes they played in the run."""


@dataclasses.dataclass(frozen=True)
class JaxPolicy:
    """``act`` of a JAX function of one observation and key (equal for the same function: compiled once)."""

    fn: Callable

    def __call__(self, policy, obs, env_state, key):
        return jax.vmap(self.fn)(obs, jax.random.split(key, obs.shape[0]))


@dataclasses.dataclass(frozen=True, eq=False)
class NumpyPolicy:
    """``act`` of a Python callable on one NumPy observation, called back from the compiled rollout."""

    fn: Callable
    num_actions: int
    obs_ndim: int
    problems: list = dataclasses.field(default_factory=list)

    def __call__(self, policy, obs, env_state, key):
        result = jax.ShapeDtypeStruct(obs.shape[: obs.ndim - self.obs_ndim], jnp.int32)
        return jax.pure_callback(self.on_host, result, obs, vmap_method="broadcast_all")

    def on_host(self, obs) -> np.ndarray:
        obs = np.asarray(obs)
        lead = obs.shape[: obs.ndim - self.obs_ndim]
        flat = obs.reshape((-1, *obs.shape[obs.ndim - self.obs_ndim:]))
        actions = np.zeros(len(flat), np.int32)
        for i, one in enumerate(flat):
            if self.problems:
                break  # the first mistake is reported; the rest of the rollout is not worth running
            try:
                answer = self.fn(one.copy())
            except Exception as error:  # the user's code: any failure is reported as one line
                self.problems.append(f"the policy raised {first_line(error)}")
                break
            value = np.asarray(answer)
            if value.shape != () or value.dtype.kind not in "iu":
                self.problems.append(f"the policy returned {describe_value(answer)}")
            elif not 0 <= int(value) < self.num_actions:
                self.problems.append(f"the policy returned action {int(value)}")
            else:
                actions[i] = int(value)
        return actions.reshape(lead)


def describe_value(value) -> str:
    """What a policy returned, briefly (type, dtype, shape)."""
    array = np.asarray(value) if not hasattr(value, "dtype") else value
    return f"{type(value).__name__} of dtype {array.dtype} and shape {tuple(array.shape)}"


@dataclasses.dataclass(frozen=True)
class CountingInvalid:
    """Record hook: the wrapped hook's record, and whether each step's action lay outside ``0..num_actions-1``."""

    inner: Record
    num_actions: int

    def __call__(self, view: StepView, data=None):
        invalid = jnp.logical_or(view.action < 0, view.action >= self.num_actions)
        return self.inner(view, data), invalid


def policy_kind(fn: Callable) -> str:
    """``"jax"`` for ``(obs, key)``, ``"numpy"`` for ``(obs)``, read off the signature."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        raise ScenarioError("cannot read the policy's signature; say policy_kind='jax' or 'numpy'") from None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if len(required) == 2:
        return "jax"
    if len(required) == 1 or (len(positional) == 1 and not required):
        return "numpy"
    raise ScenarioError(f"a policy takes (obs, key) (a JAX function) or (obs) (NumPy), not "
                        f"{len(required)} required arguments; or say policy_kind='jax' or 'numpy'")


def check_jax_policy(fn: Callable, env, params) -> None:
    """Trace ``fn`` on one abstract observation and key; a failure or a non-integer scalar is one clear line."""
    space = env.observation_space(params)
    obs = jax.ShapeDtypeStruct(tuple(space.shape), jnp.float32)
    try:
        out = jax.eval_shape(fn, obs, jax.random.PRNGKey(0))
    except Exception as error:  # the user's code: any failure is reported as one line
        raise ScenarioError(f"the policy failed on an observation of shape {tuple(space.shape)}: "
                            f"{first_line(error)}; {describe_action_space(env)}") from None
    if not hasattr(out, "shape") or out.shape != () or not jnp.issubdtype(out.dtype, jnp.integer):
        what = (f"{out.dtype} of shape {tuple(out.shape)}" if hasattr(out, "shape") else type(out).__name__)
        raise ScenarioError(f"the policy returned {what} for one observation; {describe_action_space(env)}")


def from_function(fn: Callable, env, params, seeds: int, kind: str = "auto") -> OutsidePolicy:
    """A JAX function or a Python callable acting for every one of ``seeds`` evaluation seeds."""
    if kind not in KINDS:
        raise ScenarioError(f"unknown policy kind {kind!r}; valid: {', '.join(KINDS)}")
    kind = policy_kind(fn) if kind == "auto" else kind
    name = getattr(fn, "__qualname__", type(fn).__name__)
    seed_numbers = jnp.arange(seeds)
    if kind == "jax":
        check_jax_policy(fn, env, params)
        return OutsidePolicy(JaxPolicy(fn), seed_numbers, f"JAX function {name}", lambda: None, seeds)
    obs_ndim = len(env.observation_space(params).shape)
    act = NumpyPolicy(fn, env.num_actions, obs_ndim)
    return OutsidePolicy(act, seed_numbers, f"Python callable {name}",
                         lambda: act.problems[0] if act.problems else None, seeds)


def from_run_dir(directory: Path, seeds: int | None = None) -> OutsidePolicy:
    """The networks a run saved (the first ``seeds`` of them; None: all)."""
    nets = load_policies(Path(directory) / "policy.npz")
    saved = jax.tree_util.tree_leaves(nets)[0].shape[0]
    if seeds is not None:
        if not 1 <= seeds <= saved:
            raise ScenarioError(f"{str(directory)!r} holds {saved} trained policies; seeds must be 1..{saved}")
        nets = jax.tree_util.tree_map(lambda x: x[:seeds], nets)
    return OutsidePolicy(mlp_act, nets, f"the networks of run {directory}", lambda: None, saved)


def load_function(spec: str) -> Callable:
    """The callable named ``module:attribute`` (the current directory is searched first, as ``python -m`` does)."""
    import importlib
    import sys

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ScenarioError(f"a policy is named module:function, not {spec!r}")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as error:  # the user's module: any failure to import is one line
        raise ScenarioError(f"cannot import {module_name!r} for policy {spec!r}: {first_line(error)}") from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ScenarioError(f"{module_name!r} has no {attribute!r} (policy {spec!r})")
        found = getattr(found, part)
    if not callable(found):
        raise ScenarioError(f"{spec!r} is not a function")
    return found
