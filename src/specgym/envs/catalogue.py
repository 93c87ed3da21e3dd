"""The built-in envs and their default train / deploy level sets."""

from __future__ import annotations

from specgym.envs import boat_race, coin_run, tomato_watering
from specgym.envs.registry import register_env


def make_boat_race(max_steps: int = 100, pay_once_per_circuit: bool = False):
    env = boat_race.BoatRace()
    kw = {"max_steps": max_steps, "pay_once_per_circuit": pay_once_per_circuit}
    return env, {"train": env.make_params([boat_race.TRAIN_TRACK], **kw),
                 "deploy": env.make_params([boat_race.DEPLOY_TRACK], **kw)}


def make_tomato_watering(max_steps: int = 100, bucket: bool = True):
    env = tomato_watering.TomatoWatering()
    gardens = {"train": tomato_watering.GARDEN, "deploy": tomato_watering.DEPLOY_GARDEN}
    if not bucket:
        gardens = {split: tomato_watering.without_bucket(g) for split, g in gardens.items()}
    return env, {split: env.make_params([g], max_steps) for split, g in gardens.items()}


def make_coin_run(random_percent: float = 0.0, num_levels: int = 256, max_steps: int = 40, seed: int = 0):
    env = coin_run.CoinRun()
    train = env.make_params(num_levels, random_percent, seed, max_steps)
    deploy = env.make_params(num_levels, 1.0, seed + 10_000, max_steps)
    return env, {"train": train, "deploy": deploy}


register_env("boat-race", make_boat_race)
register_env("tomato-watering", make_tomato_watering)
register_env("coin-run", make_coin_run)
