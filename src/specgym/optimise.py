"""Gradient descent as one ``lax.scan``: the training loop every fitted model here shares."""

from __future__ import annotations

from typing import TypeVar, cast

import jax
import optax

ParamsT = TypeVar("ParamsT", bound=optax.Params)


def minimise(loss_fn, params: ParamsT, optimiser: optax.GradientTransformation, steps: int | None = None,
             keys=None) -> tuple[ParamsT, jax.Array]:
    """Apply ``optimiser`` to ``loss_fn`` and return ``(params, loss per step)``.

    Full batch: ``loss_fn(params)``, ``steps`` times. Minibatches: ``loss_fn(params, key)``,
    once per entry of ``keys`` (the key picks the batch).
    """
    with_key = keys is not None
    loss_and_grad = jax.value_and_grad(loss_fn)

    def step(carry, key):
        params, opt_state = carry
        loss, grads = loss_and_grad(params, key) if with_key else loss_and_grad(params)
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (fitted, _), losses = jax.lax.scan(step, (params, optimiser.init(params)), keys,
                                       length=None if with_key else steps)
    # optax types its updates as any pytree; they keep the structure of ``params``
    return cast(ParamsT, fitted), losses
