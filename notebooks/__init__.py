"""Analyses of the published marts that run top to bottom in CI, and the helpers they share."""
