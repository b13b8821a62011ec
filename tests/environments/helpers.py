"""Driving an environment's scripted solver through the platform, as an agent would."""

from environments.engine import get_environment
from environments.services import engine_task


def solver_for(task) -> tuple:
    """The environment, a reset scripted solver and the engine task for a stored task."""
    env = get_environment(task.env_id)
    solved = engine_task(task)
    solver = env.solver()
    solver.reset(solved)
    return env, solver, solved
