"""Evals: candidate models run on a dataset and scored; the winner is routable."""
