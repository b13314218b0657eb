"""Test sets by input kind: the pictures people send, as they send them, for the evaluation alone."""
