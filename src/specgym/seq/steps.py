"""The steps of the sequence-RLHF pipeline by name, and one function that runs any of them.

`specgym seq <step>` and `specgym.run_seq_step` both run a step through
here, so the command and the Python API write the same run directory and return the same summary.
Adding a step adds a row to ``STEPS``.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

from specgym.errors import ScenarioError

# name -> (module in specgym.seq, config class, run function, one-line help)
STEPS = {
    "pretrain": ("pretrain", "PretrainRun", "run_pretrain", "Pretrain the policy on the Markov source (refreshes the cache)."),
    "sft": ("pretrain", "PretrainRun", "run_sft", "Fine-tune the pretrained policy on gold-best demonstrations."),
    "rm": ("rlhf", "SeqRLHFConfig", "run_rm", "Bradley-Terry proxies from N gold-labelled comparisons; on- and off-distribution accuracy."),
    "bon": ("rlhf", "SeqRLHFConfig", "run_bon", "Best-of-n sampling against the proxy, n = 1..max_n."),
    "ppo": ("rlhf", "SeqRLHFConfig", "run_ppo", "PPO against the proxy with a fixed or adaptive KL penalty."),
    "dpo": ("dpo", "DPOConfig", "run_dpo", "Direct preference optimisation on the same comparisons, a sweep of beta."),
    "rlaif": ("rlaif", "RLAIFConfig", "run_rlaif", "RL from AI feedback under a written constitution, against gold-labelled RLHF."),
    "phf": ("phf", "PHFConfig", "run_phf", "Pretraining with feedback (filtering, conditional) against pretraining + RLHF."),
    "overoptimization": ("overoptimization", "OveroptimizationConfig", "run_overoptimization_step",
                         "Gold and proxy against sqrt(KL) for best-of-n and PPO, with the Gao et al. fits."),
}


def setting_text(value: Any) -> str:
    """A setting as ``--set`` writes it: sequences joined by commas, anything else as ``str`` gives it."""
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def run_seq_step(step: str, settings: dict[str, Any] | None = None, seed: int = 0, out_root: Path | str = "runs",
                 cache: Path | str | None = "runs/seq-cache", progress: bool = True) -> dict:
    """Run one step of the sequence-RLHF pipeline; write its run directory; return its summary.

    The Python form of `specgym seq STEP --json`, with the same summary (its `run_dir` names the directory).

    Args:
        step: One of `STEPS`: pretrain, sft, rm, bon, ppo, dpo, rlaif, phf, overoptimization.
        settings: Config fields to change, by dotted path (`{"ppo.updates": 100, "comparisons": (250, 4000)}`);
            a value may be text as `--set` takes it. A wrong name raises a `ScenarioError` listing the valid ones.
        seed: Master seed (the reference policy's too).
        out_root: Parent of the run directory.
        cache: Where the pretrained reference policy is kept between steps; None always retrains it.
        progress: Show a progress bar.
    """
    from specgym.run_dir import RunDir, jsonable
    from specgym.settings import replace_fields

    if step not in STEPS:
        raise ScenarioError(f"unknown seq step {step!r}; valid: {', '.join(STEPS)}")
    module_name, config_name, run_name, _ = STEPS[step]
    module = importlib.import_module(f"specgym.seq.{module_name}")
    texts = {name: setting_text(value) for name, value in (settings or {}).items()}
    cfg = replace_fields(getattr(module, config_name)(), texts)
    run_dir = RunDir.create(Path(out_root), f"seq-{step}")
    run_dir.write_json("config.json", {"step": step, "seed": seed, "config": dataclasses.asdict(cfg)})
    summary = getattr(module, run_name)(cfg, seed, None if cache is None else Path(cache), run_dir.path,
                                        progress=progress)
    summary = jsonable({**summary, "run_dir": str(run_dir)})
    run_dir.write_json("summary.json", summary, indent=1)
    return summary
