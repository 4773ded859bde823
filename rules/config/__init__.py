"""TODO module map."""
