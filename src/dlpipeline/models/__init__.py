"""Torch modules, one file per family."""
