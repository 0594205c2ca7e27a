"""Benchmarks: figures printed for the docs, never asserted."""
