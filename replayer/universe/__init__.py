"""The synthetic universe: catalogue, users, comments and ratings, generated lazily and deterministically."""
