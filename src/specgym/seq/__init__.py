"""RLHF on sequences at toy scale: a toy language, a gold reward, proxies, and the ways to optimise them.

One module per concept: ``world`` (vocabulary and Markov source), ``gold`` (the
gold reward), ``policy`` (the GRU), ``mle`` / ``pretrain`` (pretraining, SFT),
``reward_model`` (Bradley-Terry proxies), ``best_of_n``, ``ppo_kl``, ``rlhf``
(the gold-labelled steps), ``dpo``, ``constitution`` / ``rlaif``, ``phf``,
``fits``, ``overoptimization``, ``plots``, ``settings`` and ``checkpoints``.
The CLI is ``specgym seq`` (``specgym.commands.seq``).
"""
