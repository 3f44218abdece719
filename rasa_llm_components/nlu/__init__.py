"""NLU components."""
