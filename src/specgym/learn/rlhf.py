"""The Christiano et al. (2017) loop: clips from the policy, comparisons, reward model, policy.

One *round* does, for every agent at once (agents = seeds x label budgets,
vmapped):

1. record clips with the current policy (a share of them with random actions mixed in);
2. draw candidate pairs and keep the ones the reward-model ensemble disagrees
   on most (uncertainty-based query selection);
3. ask the evaluator (on the host: it may be a person) for preferences;
4. store them (an agent whose label budget is spent stores nothing more) and
   update the Bradley-Terry ensemble;
5. run PPO on the learned reward for this round's share of the env steps.

The learned reward reaches PPO through :class:`LearnedRewardEnv`, whose params
carry the reward model: the model changes every round but is *data*, so each
of the compiled round functions compiles once per run.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from specgym import compile_options, seed_parallel
from specgym.envs.base import Env, EnvParams, pytree_dataclass
from specgym.evaluation import policy_action
from specgym.learn import preferences as prefs
from specgym.learn import reward_model as rm
from specgym.rewards import Reward
from specgym.rl.ppo import PPO, PPOConfig


@dataclasses.dataclass(frozen=True)
class RLHFConfig:
    labels: tuple[int, ...] = (400,)
    """Label budgets (comparisons per agent); several give the labels-needed curve in one run."""
    labels_per_round: int = 50
    """Comparisons asked for per round (the last round may use fewer of them)."""
    clips_per_round: int = 128
    """Clips recorded from each agent's current policy per round."""
    candidates_per_query: int = 8
    """Candidate pairs scored by ensemble disagreement for each pair asked (1 = random queries)."""
    explore_share: float = 0.5
    """Share of each round's clips recorded with random actions mixed in (see ``explore_rate``)."""
    explore_rate: float = 0.3
    """In those clips, the chance that each step's action is uniform random instead of the policy's.
    A policy that has turned nearly deterministic on an early, wrong reward model shows the evaluator
    the same clip over and over, and "equal" teaches nothing; clips that stray from it show what
    nearby behaviour is worth, so the evaluator's answers can still correct the model."""
    pretrain_labels: int = 0
    """Comparisons asked before the policy is trained at all, on clips of the untrained (nearly
    uniform) policy, in rounds of ``labels_per_round`` (rounded up to whole rounds; they count in
    the budget). The first reward model PPO optimises is then already informed: a policy trained
    hard on a model taught by one round of labels can turn nearly deterministic on a wrong
    reward before the evaluator ever sees what it should have done (Christiano et al. 2017
    likewise asked an initial batch of labels before training the policy)."""
    clip_length: int = 0
    """Steps per clip; 0 = the whole episode (the env's time limit)."""
    reward_model: rm.RewardModelConfig = rm.RewardModelConfig()
    """The Bradley-Terry ensemble."""
    heldout_pairs: int = 256
    """Fresh pairs (not counted in the budget) on which the final reward model is scored."""

    @property
    def rounds(self) -> int:
        return math.ceil(max(self.labels) / self.labels_per_round)

    @property
    def pretrain_rounds(self) -> int:
        """Rounds that ask and learn but leave the policy untrained."""
        return math.ceil(self.pretrain_labels / self.labels_per_round)

    def check(self) -> None:
        """Raise ValueError where the budgets leave no round to train the policy in."""
        if self.pretrain_labels < 0:
            raise ValueError(f"pretrain_labels must be 0 or more, got {self.pretrain_labels}")
        if self.pretrain_rounds >= self.rounds:
            raise ValueError(f"{self.pretrain_labels} labels before training leave no round of the "
                             f"{max(self.labels)}-label budget ({self.rounds} rounds of {self.labels_per_round}) "
                             "to train the policy in")


# ----- what a scenario recommends -------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RLHFRecommendation:
    """The loop and trainer settings a scenario's RLHF runs start from (``Scenario.rlhf``).

    Whatever the command line gives wins over either; an empty recommendation
    leaves the ``RLHFConfig`` and trainer defaults.
    """

    loop: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``RLHFConfig`` fields, e.g. ``{"labels": (600,), "pretrain_labels": 200}``."""
    trainer: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Trainer (``PPOConfig``) fields, e.g. ``{"total_steps": 900_000}``."""

    def __post_init__(self):
        for given, config in ((self.loop, RLHFConfig), (self.trainer, PPOConfig)):
            unknown = set(given) - {f.name for f in dataclasses.fields(config)}
            if unknown:
                raise ValueError(f"not {config.__name__} fields: {sorted(unknown)}")

    def copies(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(loop fields, trainer settings) as fresh dicts the caller may update."""
        return dict(self.loop), dict(self.trainer)


# ----- the learned reward, as the env's specified reward ---------------------------------
@pytree_dataclass
class LearnedRewardParams(EnvParams):
    inner: Any
    """The wrapped env's params."""
    model: rm.RewardModel
    """The reward model the specified reward reads."""

    @property
    def max_steps(self):
        return self.inner.max_steps


class LearnedRewardEnv(Env[Any, LearnedRewardParams]):
    """``env`` with its specified reward replaced by a reward model carried in the params."""

    def __init__(self, env: Env):
        self.base = env
        self.name, self.num_actions, self.action_names = env.name, env.num_actions, env.action_names
        learned = Reward(lambda tr, p: rm.reward(p.model, prefs.step_features(env, p.inner, tr)), "learned reward model")
        super().__init__(learned, lambda tr, p: env.intended_reward(tr, p.inner))

    def reset_env(self, key, params):
        return self.base.reset_env(key, params.inner)

    def chance(self, key, state, params):
        return self.base.chance(key, state, params.inner)

    def dynamics(self, state, action, params):
        return self.base.dynamics(state, action, params.inner)

    def observe(self, state, params):
        return self.base.observe(state, params.inner)

    def is_terminal(self, state, params):
        return self.base.is_terminal(state, params.inner)

    def level_of(self, state):
        return self.base.level_of(state)

    def observation_space(self, params):
        return self.base.observation_space(params.inner if isinstance(params, LearnedRewardParams) else params)


# ----- one round, as compiled pieces --------------------------------------------------
class Loop:
    """The compiled pieces of the loop for one env, training level set and config."""

    def __init__(self, env: Env, params, ppo: PPOConfig, cfg: RLHFConfig, agents: int = 1):
        """``agents``: how many agents the compiled functions are vmapped over; where the host presents
        several devices (the ``specgym`` command does, one per core) they are spread over them."""
        self.env, self.params, self.ppo_cfg, self.cfg = env, params, ppo, cfg
        self.length = cfg.clip_length or env.horizon(params)
        self.features = prefs.feature_size(env, params)
        self.learned_env = LearnedRewardEnv(env)
        cfg.check()
        self.updates_per_round = max(1, ppo.num_updates // (cfg.rounds - cfg.pretrain_rounds))
        self.capacity = cfg.rounds * cfg.labels_per_round
        self.on_policy_clips = cfg.clips_per_round - round(cfg.clips_per_round * cfg.explore_share)
        options = compile_options.for_training(ppo.num_updates * agents)
        self.record = seed_parallel.jit_over_seeds(jax.vmap(self._record_and_select), agents, options)
        # the last argument (train the policy this round?) is shared by every agent, so it stays a branch
        self.learn = seed_parallel.jit_over_seeds(jax.vmap(self._learn, in_axes=(0, 0, 0, 0, 0, 0, None)), agents,
                                                  options)
        self.init = seed_parallel.jit_over_seeds(jax.vmap(self._init), agents)

    def _ppo(self, model):
        params = LearnedRewardParams(self.params, model)
        return PPO(self.ppo_cfg, self.learned_env, params)

    def _init(self, key):
        k_model, k_ppo = jax.random.split(key)
        model = rm.init_reward_model(k_model, self.features, self.cfg.reward_model)
        buffer = rm.empty_buffer(self.capacity, self.length, self.features, self.cfg.reward_model.members)
        return _strong({"model": model, "buffer": buffer, "runner": self._ppo(model).init(k_ppo)})

    def _record_and_select(self, agent, key):
        """Clips from the agent's policy, then the candidate pairs its ensemble disagrees on most."""
        cfg = self.cfg
        net = agent["runner"].net
        k_clips, k_explore, k_left, k_right = jax.random.split(key, 4)
        straying = cfg.clips_per_round - self.on_policy_clips
        on_policy = prefs.record_clips(self.env, self.params, lambda o, k: policy_action(net, o, k), k_clips,
                                       self.on_policy_clips, self.length)
        clips = on_policy
        if straying:
            explore = prefs.record_clips(self.env, self.params, lambda o, k: self._straying_action(net, o, k),
                                         k_explore, straying, self.length)
            clips = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), on_policy, explore)
        n = cfg.labels_per_round * cfg.candidates_per_query
        left = jax.random.randint(k_left, (n,), 0, cfg.clips_per_round)
        right = (left + jax.random.randint(k_right, (n,), 1, cfg.clips_per_round)) % cfg.clips_per_round
        disputed = rm.disagreement(agent["model"], clips.features[left], clips.features[right],
                                   clips.mask[left], clips.mask[right])
        # an untrained ensemble's disagreement means nothing: the first queries are random
        score = jnp.where(agent["buffer"].count > 0, disputed, jax.random.uniform(k_left, (n,)))
        _, best = jax.lax.top_k(score, cfg.labels_per_round)
        return clips, left[best], right[best]

    def _straying_action(self, net, obs, key):
        """The policy's action, replaced by a uniform random one with probability ``explore_rate``."""
        k_policy, k_coin, k_random = jax.random.split(key, 3)
        random_action = jax.random.randint(k_random, (), 0, self.env.num_actions)
        stray = jax.random.uniform(k_coin) < self.cfg.explore_rate
        return jnp.where(stray, random_action, policy_action(net, obs, k_policy))

    def _learn(self, agent, left: prefs.Clips, right: prefs.Clips, labels, budget, key, train_policy):
        """Store the labels the budget allows, update the ensemble, then PPO on the learned reward
        (unless ``train_policy`` is false: the rounds asked before the policy trains)."""
        k_add, k_train = jax.random.split(key)
        buffer = agent["buffer"]
        usable = buffer.count + jnp.arange(labels.shape[0]) < budget
        buffer = rm.add_comparisons(buffer, k_add, left.features, right.features, left.mask, right.mask,
                                    labels, usable)
        model, losses = rm.train_reward_model(agent["model"], buffer, k_train, self.cfg.reward_model)
        ppo = self._ppo(model)
        train = lambda r: ppo.run_updates(r, self.updates_per_round)
        # a round that leaves the policy alone reports its PPO statistics as NaN (episode counts 0)
        def blank(s):
            return jnp.full(s.shape, jnp.nan if jnp.issubdtype(s.dtype, jnp.floating) else 0, s.dtype)

        untrained = jax.tree_util.tree_map(blank, jax.eval_shape(train, agent["runner"])[1])
        runner, metrics = jax.lax.cond(train_policy, train, lambda r: (r, untrained), agent["runner"])
        stats = {"rm_loss": losses.mean(), "labels": buffer.weight.sum(),
                 **{k: jnp.nanmean(v) for k, v in metrics.items() if k != "episodes"}}
        return _strong({"model": model, "buffer": buffer, "runner": runner}), stats


def _strong(tree):
    """Drop weak types, so the state a round returns has the signature of the one it took (one compile)."""
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x, x.dtype), tree)


def split_agents(clips: prefs.Clips, left, right, agents: int, round_index: int) -> prefs.ClipPairs:
    """One ClipPairs over every agent's selected pairs (agent-major), with readable ids."""
    host = jax.device_get(clips)
    left, right = np.asarray(left), np.asarray(right)
    lefts, rights, ids = [], [], []
    for a in range(agents):
        mine = jax.tree_util.tree_map(lambda x, a=a: x[a], dataclasses.replace(host, ids=()))
        mine = dataclasses.replace(mine, ids=tuple(f"r{round_index}a{a}c{i}" for i in range(len(mine))))
        lefts.append(mine.take(left[a]))
        rights.append(mine.take(right[a]))
        ids += [f"r{round_index}a{a}p{i}" for i in range(left.shape[1])]
    return prefs.ClipPairs(prefs.concat(lefts), prefs.concat(rights), tuple(ids))


def stack_pairs(pairs: prefs.ClipPairs, agents: int):
    """Host pairs back to device arrays with a leading agent axis (ids dropped)."""
    def shape(c):
        return jax.tree_util.tree_map(lambda x: jnp.asarray(x).reshape((agents, -1) + x.shape[1:]),
                                      dataclasses.replace(c, ids=()))
    return shape(pairs.left), shape(pairs.right)


# ----- the driver ----------------------------------------------------------------------
@dataclasses.dataclass
class RLHFResult:
    agents: Any
    """Final loop state per agent (leading axis: budget-major, then seed)."""
    budgets: np.ndarray
    """(agents,) the label budget of each agent."""
    history: list[dict]
    """Per round: per-agent arrays of clip returns, labels stored, reward-model loss, PPO stats."""
    loop: Loop


def train_rlhf(env: Env, params, ppo: PPOConfig, cfg: RLHFConfig, evaluator, seeds: int, key,
               on_round=None) -> RLHFResult:
    """Run every round for ``seeds`` x ``len(cfg.labels)`` agents; ``on_round(index, stats)`` after each."""
    loop = Loop(env, params, ppo, cfg, agents=seeds * len(cfg.labels))
    budgets = np.repeat(np.asarray(cfg.labels, np.int32), seeds)
    n = len(budgets)
    k_init, k_loop = jax.random.split(key)
    # the same seed starts from the same network under every budget (paired comparisons)
    seed_keys = jax.random.split(k_init, seeds)
    agents = loop.init(jnp.tile(seed_keys, (len(cfg.labels), 1)))
    asked = np.zeros(n, np.int64)
    history = []
    for r in range(cfg.rounds):
        k_rec, k_eval, k_learn = jax.random.split(jax.random.fold_in(k_loop, r), 3)
        clips, left, right = loop.record(agents, jax.random.split(k_rec, n))
        pairs = split_agents(clips, left, right, n, r)
        wanted = (asked[:, None] + np.arange(cfg.labels_per_round)[None, :] < budgets[:, None]).ravel()
        labels = np.full(len(pairs), np.nan)
        if wanted.any():
            index = np.flatnonzero(wanted)
            subset = prefs.ClipPairs(pairs.left.take(index), pairs.right.take(index),
                                     tuple(pairs.pair_ids[i] for i in index))
            labels[index] = evaluator.compare(subset, k_eval)
        asked += wanted.reshape(n, -1).sum(1)
        left_dev, right_dev = stack_pairs(pairs, n)
        trained = r >= cfg.pretrain_rounds
        agents, stats = loop.learn(agents, left_dev, right_dev, jnp.asarray(labels.reshape(n, -1), jnp.float32),
                                   jnp.asarray(budgets), jax.random.split(k_learn, n), jnp.asarray(trained))
        policy = slice(0, loop.on_policy_clips)  # the policy's own clips come first
        mask = np.asarray(clips.mask)[:, policy]
        policy_rounds = max(0, r + 1 - cfg.pretrain_rounds)
        row = {"round": r, "env_steps": policy_rounds * loop.updates_per_round * ppo.steps_per_update,
               "labels_asked": asked.copy(),
               "clip_specified_return": (np.asarray(clips.specified)[:, policy] * mask).sum(-1).mean(-1),
               "clip_intended_return": (np.asarray(clips.intended)[:, policy] * mask).sum(-1).mean(-1),
               **{k: np.asarray(v) for k, v in jax.device_get(stats).items()}}
        history.append(row)
        if on_round is not None:
            on_round(r, row)
    return RLHFResult(seed_parallel.gather(agents), budgets, history, loop)


# ----- how good is the learned reward? ---------------------------------------------------
def heldout_metrics(result: RLHFResult, evaluator, key, num_clips: int = 128) -> dict[str, np.ndarray]:
    """Per agent, on fresh clips (half from its final policy, half uniform-random) and fresh pairs:

    ``heldout_accuracy``: agreement of the reward model with the evaluator on pairs it
    answered strictly (NaN for a person, who is not asked extra questions);
    ``intended_accuracy``: agreement with the intended reward's strict preferences;
    ``reward_correlation``: Pearson correlation of learned and intended clip returns.
    """
    loop, cfg = result.loop, result.loop.cfg
    env, params = loop.env, loop.params

    def clips_and_returns(agent, key):
        k_pol, k_rand = jax.random.split(key)
        net = agent["runner"].net
        policy = prefs.record_clips(env, params, lambda o, k: policy_action(net, o, k), k_pol, num_clips // 2, loop.length)
        uniform = prefs.record_clips(env, params, lambda o, k: jax.random.randint(k, (), 0, env.num_actions),
                                     k_rand, num_clips - num_clips // 2, loop.length)
        clips = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), policy, uniform)
        learned = (rm.reward(agent["model"], clips.features) * clips.mask).sum(-1)
        return clips, learned

    n = len(result.budgets)
    clips, learned = jax.jit(jax.vmap(clips_and_returns))(result.agents, jax.random.split(key, n))
    clips, learned = jax.device_get((clips, learned))
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    out = {"heldout_accuracy": np.full(n, np.nan), "intended_accuracy": np.full(n, np.nan),
           "reward_correlation": np.full(n, np.nan)}
    simulated = hasattr(evaluator, "returns")
    for a in range(n):
        mine = jax.tree_util.tree_map(lambda x, a=a: x[a], dataclasses.replace(clips, ids=()))
        intended = mine.total(mine.intended)
        left, right = prefs.random_pairs(rng, len(mine), cfg.heldout_pairs)
        predicted = np.sign(learned[a][left] - learned[a][right])
        truth = np.sign(intended[left] - intended[right])
        out["intended_accuracy"][a] = _agreement(predicted, truth)
        if simulated:
            judged = evaluator.compare(prefs.pair_up(mine, left, right, "heldout"), jax.random.fold_in(key, a))
            out["heldout_accuracy"][a] = _agreement(predicted, np.sign(judged - 0.5))
        if np.std(intended) > 0 and np.std(learned[a]) > 0:
            out["reward_correlation"][a] = float(np.corrcoef(learned[a], intended)[0, 1])
    return out


def _agreement(predicted: np.ndarray, reference: np.ndarray) -> float:
    """Share of strict reference preferences (non-zero sign) the prediction gets right."""
    strict = reference != 0
    return float(np.mean(predicted[strict] == reference[strict])) if strict.any() else float("nan")
