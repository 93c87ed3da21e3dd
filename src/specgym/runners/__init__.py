"""The experiment runners: each takes a scenario, trains or learns, evaluates, and writes a run directory.

``specgym.run`` (PPO on the specified reward) and ``specgym.sweep`` (one run per
grid point) are the first two; this package holds the others: ``imitate`` (learning
from demonstrations, its methods in ``imitation_methods``), ``rlhf`` (learning from
an evaluator's comparisons) and ``retrain`` (the reward model the labelling page
retrains from a run directory). Runners sit above the learners, evaluation, the
scenarios and the pictures, and below the diagnosis and the command line; every
one writes its directory through ``specgym.run_dir.RunDir``.
"""
