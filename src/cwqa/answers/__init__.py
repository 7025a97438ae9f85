"""Answers: the `Answer` noun, the generator plug-in door, citation checking, and the built-in extractive generator."""
