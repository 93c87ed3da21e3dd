"""Where comparisons come from: simulated evaluators, the label store and the labelling web app.

One concept per module; import the module you need (nothing heavy is imported here).
"""
