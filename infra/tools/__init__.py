"""Offline tools that prepare tenant bundle data (not deployed)."""
