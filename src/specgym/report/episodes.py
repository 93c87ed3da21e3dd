"""Record one episode of a trained policy as frames, and save it as an annotated GIF."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageDraw

from specgym.envs.base import EnvState
from specgym.evaluation import policy_action


def record_episode(env, params, net, key, act=None) -> list[tuple[np.ndarray, float, float]]:
    """Frames of one episode with the running specified and intended return at each frame.

    ``net`` is a trained network, or, with ``act(policy, obs, env_state, key) -> action``,
    any policy (a clone, a tabular expert).
    """

    @jax.jit
    def act_and_step(key, inner, time):
        k_act, k_step = jax.random.split(key)
        obs = env.observe(inner, params)
        action = policy_action(net, obs, k_act) if act is None else act(net, obs, EnvState(inner, time), k_act)
        tr = env.transition(k_step, inner, action, params)
        return tr.next_state, env.specified_reward(tr, params), env.intended_reward(tr, params), tr.terminated

    k_reset, key = jax.random.split(key)
    inner = env.reset_env(k_reset, params)
    spec = true = 0.0
    frames = [(env.render(inner, params), spec, true)]
    for t, k in enumerate(jax.random.split(key, env.horizon(params))):
        inner, r, r_true, terminated = act_and_step(k, inner, jnp.asarray(t, jnp.int32))
        spec, true = spec + float(r), true + float(r_true)
        frames.append((env.render(inner, params), spec, true))
        if bool(terminated):
            break
    return frames


def save_gif(frames, path: Path, title: str, ms_per_frame: int = 120) -> None:
    """A GIF with a caption strip: title, step, specified and intended return so far."""
    images = []
    for step, (frame, spec, true) in enumerate(frames):
        h, w, _ = frame.shape
        canvas = Image.new("RGB", (max(w, 260), h + 34), (255, 255, 255))
        canvas.paste(Image.fromarray(frame), (0, 34))
        draw = ImageDraw.Draw(canvas)
        draw.text((4, 2), f"{title}  step {step}", fill=(0, 0, 0))
        draw.text((4, 17), f"specified {spec:7.2f}   intended {true:7.2f}", fill=(60, 60, 160))
        images.append(canvas)
    images[0].save(path, save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0)
