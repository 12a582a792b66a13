"""What the loop tests share: one RK4 step of a pendulum, written once.

>>> rk4_step((0.0, 1.0), lambda th, om: 0.0, 0.1)  # no force: the angle grows by dt*om
(0.1, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def rk4_step(state: tuple[Any, Any], accel: Callable[[Any, Any], Any], dt: float) -> tuple:
    """One classical Runge-Kutta step of th' = om, om' = accel(th, om) (nodes or numbers)."""
    def f(th: Any, om: Any) -> tuple:
        return om, accel(th, om)
    th, om = state
    k1 = f(th, om)
    k2 = f(th + dt / 2 * k1[0], om + dt / 2 * k1[1])
    k3 = f(th + dt / 2 * k2[0], om + dt / 2 * k2[1])
    k4 = f(th + dt * k3[0], om + dt * k3[1])
    return (th + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
            om + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]))
