"""Where a point fell among a tenant's areas: plain results, free of the geometry library.

Kept apart from `areas` so that code which only reads a result does not load shapely and
numpy (about 0.2 s of Lambda cold start) until a point is actually located.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Inside:
    code: str
    snapped_m: float | None = None


@dataclass(frozen=True, slots=True)
class Outside:
    nearest_code: str | None
    distance_m: float | None
