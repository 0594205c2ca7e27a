"""Use cases: each takes plain values, talks to ports, and returns plain values."""
