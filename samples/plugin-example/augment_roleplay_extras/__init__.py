"""Example plugins for augment (see README.md)."""
