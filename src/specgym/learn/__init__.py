"""Learning what to do from something other than the specified reward.

Imitation (demonstrations, behavioural cloning, DAgger, procedure cloning,
maximum-entropy inverse RL, goal inference, CIRL) and reward learning from
comparisons (Bradley-Terry reward models, the RLHF loop). One method per module;
import the module you need (nothing heavy is imported here).
"""
