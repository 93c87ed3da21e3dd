"""Proximal policy optimisation as one jitted function (the PureJaxRL recipe).

``make_train(config, env, params)(key)`` runs a whole training run - rollouts,
GAE, clipped-surrogate epochs - inside ``lax.scan``, so seeds are a ``vmap``
away. ``PPO.update`` exposes a single update for callers that want progress
and partial results between chunks (the CLI); both share every line of math.

The learner reads only ``Step.reward`` (the specified reward). The intended
reward is summed alongside purely so training curves can show both.
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from specgym.envs.batch_step import step_batch
from specgym.envs.capabilities import ChoosesAmongSampledOutcomes
from specgym.errors import ScenarioError
from specgym.rl import networks
from specgym.settings import FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT, POSITIVE_INTS, check_fields


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """PPO's settings, each field a ``--set NAME=VALUE`` of ``specgym run``; a scenario's ``trainer`` holds its defaults."""

    total_steps: int = 500_000
    """Environment steps per seed."""
    num_envs: int = 64
    """Parallel environments per seed."""
    num_steps: int = 32
    """Steps per environment in one rollout."""
    update_epochs: int = 2
    """Passes over each rollout."""
    num_minibatches: int = 8
    """Minibatches per epoch (of 256 transitions at the default sizes)."""
    lr: float = 1e-3
    """Adam learning rate (annealed linearly to 0 when ``anneal_lr``)."""
    anneal_lr: bool = True
    """Anneal the learning rate linearly over training."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip_eps: float = 0.2
    """PPO clipping range."""
    ent_coef: float = 0.01
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the actor and of the critic."""
    view: str = "board"
    """What the actor and critic MLPs read: "board" (the flat observation as it comes), "egocentric"
    (a grid board recentred on the agent: learns faster and generalises to unseen levels) or "options" (one-step
    choices: one shared MLP scores each option's features; see rl/networks.py)."""

    def __post_init__(self):
        """Refuse values PPO cannot run with, with one line that names the field (hidden sizes become a tuple)."""
        check_fields(self, {name: POSITIVE_INT for name in
                            ("total_steps", "num_envs", "num_steps", "update_epochs", "num_minibatches")})
        if self.steps_per_update % self.num_minibatches:
            raise ScenarioError(f"num_minibatches ({self.num_minibatches}) must divide num_envs x num_steps "
                                f"({self.num_envs} x {self.num_steps} = {self.steps_per_update})")
        # gamma 0 is a one-step (myopic) learner: GAE is then the one-step TD error
        check_fields(self, {"lr": POSITIVE, "clip_eps": POSITIVE, "max_grad_norm": POSITIVE, "gamma": FRACTION,
                            "gae_lambda": FRACTION, "ent_coef": NON_NEGATIVE, "vf_coef": NON_NEGATIVE})
        object.__setattr__(self, "hidden", _layer_sizes(self.hidden))
        if self.view not in networks.VIEWS:
            raise ScenarioError(f"view must be one of {', '.join(networks.VIEWS)}, not {self.view!r}")

    @property
    def steps_per_update(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return max(1, self.total_steps // self.steps_per_update)


def _layer_sizes(sizes, field: str = "hidden") -> tuple[int, ...]:
    """Layer sizes as a tuple, from a tuple or list, or one integer (one layer); text is the parser's job."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = [sizes]
    if not isinstance(sizes, (tuple, list)) or not POSITIVE_INTS.ok(tuple(sizes)):
        raise ScenarioError(f"{field} must be one or more positive layer sizes, not {sizes!r}")
    return tuple(int(size) for size in sizes)


RESET_POOL_DIVISOR = 8
"""Where resets draw levels, they are drawn num_envs / 8 at a time (``envs.batch_step``): about as many episodes as
end in a step when they last eight steps or more, so one pool usually serves a step."""


class RunnerState(NamedTuple):
    net: Any
    opt_state: Any
    env_state: Any
    obs: jax.Array
    episode_return: jax.Array  # (num_envs,) running specified return
    episode_true_return: jax.Array  # (num_envs,) running intended return
    key: jax.Array
    update: jax.Array


class Rollout(NamedTuple):
    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    terminated: jax.Array
    done: jax.Array
    bootstrap: jax.Array  # V(final obs) where the episode was truncated, else 0


class Losses(NamedTuple):
    """The terms of the PPO objective for one minibatch (``total`` is what the gradient descends)."""

    total: jax.Array
    policy: jax.Array
    value: jax.Array
    entropy: jax.Array


def gae(reward, value, next_value, terminated, done, gamma: float, lam: float):
    """Generalised advantage estimates along axis 0.

    ``next_value[t]`` is the value to bootstrap from after step t: V of the
    next observation, or of the final observation when the step was truncated.
    Terminated steps do not bootstrap; any episode end stops the recursion.
    """
    delta = reward + gamma * (1.0 - terminated) * next_value - value

    def back(carry, x):
        d, end = x
        adv = d + gamma * lam * (1.0 - end) * carry
        return adv, adv

    _, adv = jax.lax.scan(back, jnp.zeros_like(delta[0]), (delta, done), reverse=True)
    return adv, adv + value


class PPO:
    """PPO on one env and one params value (the training level set)."""

    def __init__(self, config: PPOConfig, env, params):
        self.config, self.env, self.params = config, env, params
        self.obs_size = int(env.observation_space(params).shape[0])
        self.num_actions = env.num_actions
        self.board = None
        if config.view == "egocentric":
            board = getattr(env, "board_shape", None)
            self.board = None if board is None else tuple(board(params))
            if self.board is None or self.board[0] * self.board[1] * self.board[2] != self.obs_size:
                raise ScenarioError(f"{env.name}'s observation is not a board alone: it has no egocentric view "
                                    "(set view=board)")
        self.per_option = config.view == "options"
        name = env.name
        is_choice = isinstance(env, ChoosesAmongSampledOutcomes) and self.obs_size % self.num_actions == 0
        if self.per_option and not is_choice:
            raise ScenarioError(f"{name} is not a choice among options described alike: it has no per-option "
                                "view (set view=board)")
        schedule = optax.linear_schedule(config.lr, 0.0, config.num_updates * config.update_epochs * config.num_minibatches)
        self.optimizer = optax.chain(
            optax.clip_by_global_norm(config.max_grad_norm),
            optax.adam(schedule if config.anneal_lr else config.lr, eps=1e-5),
        )

    def on(self, params) -> PPO:
        """The same learner on other params of the same shapes (a traced argument, say).

        A compiled chunk that takes the training params as an argument, instead of holding them as
        constants, is one program for every level set of those shapes: a fix that changes only the
        training levels, and the unfixed run, compile once between them.
        """
        other = copy.copy(self)
        other.params = params
        return other

    def init(self, key: jax.Array) -> RunnerState:
        c = self.config
        k_net, k_env, k_run = jax.random.split(key, 3)
        net = networks.init_actor_critic(k_net, self.obs_size, self.num_actions, c.hidden, self.board, self.per_option)
        obs, env_state = jax.vmap(self.env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), self.params)
        zeros = jnp.zeros((c.num_envs,), jnp.float32)
        return RunnerState(net, self.optimizer.init(net), env_state, obs, zeros, zeros, k_run, jnp.asarray(0))

    def _rollout(self, runner: RunnerState):
        c = self.config

        def one_step(carry, _):
            r = carry
            key, k_act, k_env = jax.random.split(r.key, 3)
            logits = networks.policy_logits(r.net, r.obs)
            action = jax.random.categorical(k_act, logits)
            log_prob = jax.nn.log_softmax(logits)[jnp.arange(c.num_envs), action]
            val = networks.value(r.net, r.obs)
            obs, env_state, step = self._step_envs(k_env, r.env_state, action)
            done = jnp.logical_or(step.terminated, step.truncated)
            bootstrap = jnp.where(step.truncated, networks.value(r.net, step.info.final_obs), 0.0)
            ret = r.episode_return + step.reward
            true_ret = r.episode_true_return + step.true_reward
            finished = (jnp.sum(done * ret), jnp.sum(done * true_ret), jnp.sum(done))
            new = r._replace(env_state=env_state, obs=obs, key=key,
                             episode_return=jnp.where(done, 0.0, ret), episode_true_return=jnp.where(done, 0.0, true_ret))
            data = Rollout(r.obs, action, log_prob, val, step.reward, step.terminated.astype(jnp.float32),
                           done.astype(jnp.float32), bootstrap)
            return new, (data, finished)

        return jax.lax.scan(one_step, runner, None, length=c.num_steps)

    def _step_envs(self, key, env_state, action):
        """One step of the ``num_envs`` envs; where a reset draws a level, drawn only for the envs that need one."""
        env, params, count = self.env, self.params, self.config.num_envs
        if env.costly_reset:
            return step_batch(env, key, env_state, action, params, pool=max(1, count // RESET_POOL_DIVISOR))
        return jax.vmap(env.step, in_axes=(0, 0, 0, None))(jax.random.split(key, count), env_state, action, params)

    def _loss(self, net, batch, advantages, targets):
        c = self.config
        logits = networks.policy_logits(net, batch.obs)
        log_probs = jax.nn.log_softmax(logits)
        log_prob = jnp.take_along_axis(log_probs, batch.action[:, None], axis=1)[:, 0]
        ratio = jnp.exp(log_prob - batch.log_prob)
        adv = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        policy_loss = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - c.clip_eps, 1 + c.clip_eps) * adv).mean()
        val = networks.value(net, batch.obs)
        clipped = batch.value + jnp.clip(val - batch.value, -c.clip_eps, c.clip_eps)
        value_loss = 0.5 * jnp.maximum((val - targets) ** 2, (clipped - targets) ** 2).mean()
        entropy = -(jnp.exp(log_probs) * log_probs).sum(-1).mean()
        total = policy_loss + c.vf_coef * value_loss - c.ent_coef * entropy
        return total, Losses(total, policy_loss, value_loss, entropy)

    def update(self, runner: RunnerState) -> tuple[RunnerState, dict]:
        """Collect one rollout and take the PPO epochs on it."""
        c = self.config
        runner, (data, finished) = self._rollout(runner)
        last_value = networks.value(runner.net, runner.obs)
        following = jnp.concatenate([data.value[1:], last_value[None]], axis=0)
        next_value = jnp.where(data.done > 0, data.bootstrap, following)
        advantages, targets = gae(data.reward, data.value, next_value, data.terminated, data.done, c.gamma, c.gae_lambda)

        flat = jax.tree_util.tree_map(lambda x: x.reshape((c.steps_per_update,) + x.shape[2:]), (data, advantages, targets))
        grad_fn = jax.value_and_grad(self._loss, has_aux=True)

        def epoch(carry, key):
            net, opt_state = carry
            order = jax.random.permutation(key, c.steps_per_update)
            shuffled = jax.tree_util.tree_map(
                lambda x: x[order].reshape((c.num_minibatches, -1) + x.shape[1:]), flat)

            def minibatch(carry, mb):
                net, opt_state = carry
                (_, losses), grads = grad_fn(net, *mb)
                updates, opt_state = self.optimizer.update(grads, opt_state, net)
                return (optax.apply_updates(net, updates), opt_state), losses

            return jax.lax.scan(minibatch, (net, opt_state), shuffled)

        key, k_epochs = jax.random.split(runner.key)
        (net, opt_state), losses = jax.lax.scan(epoch, (runner.net, runner.opt_state), jax.random.split(k_epochs, c.update_epochs))
        sum_ret, sum_true, count = (jnp.sum(x) for x in finished)
        metrics = {
            "episodes": count,
            "specified_return": jnp.where(count > 0, sum_ret / jnp.maximum(count, 1), jnp.nan),
            "intended_return": jnp.where(count > 0, sum_true / jnp.maximum(count, 1), jnp.nan),
            "loss": losses.total.mean(), "entropy": losses.entropy.mean(),
        }
        runner = runner._replace(net=net, opt_state=opt_state, key=key, update=runner.update + 1)
        return runner, metrics

    def run_updates(self, runner: RunnerState, count: int) -> tuple[RunnerState, dict]:
        """``count`` updates in one scan; metrics gain a leading axis of length ``count``."""
        return jax.lax.scan(lambda r, _: self.update(r), runner, None, length=count)


def make_train(config: PPOConfig, env, params):
    """``train(key) -> (runner_state, metrics)``: a whole run, jittable and vmappable over keys."""
    ppo = PPO(config, env, params)

    def train(key):
        return ppo.run_updates(ppo.init(key), config.num_updates)

    return train
