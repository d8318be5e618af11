"""Reliability campaigns: crash, confirmed commit, fault injection, fuzzing, load."""
