"""Differentiable primitives, one file per family; see each module for the math."""
