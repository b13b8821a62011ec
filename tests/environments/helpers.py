"""Driving an environment's scripted solver through the platform, as an agent would."""

from environments.engine import get_environment
from environments.engine import Task as EngineTask
from environments.services import engine_task


def solver_for(task) -> tuple:
    """The environment and a reset scripted solver for a stored task."""
    env = get_environment(task.env_id)
    solver = env.solver()
    solved = engine_task(task) if not isinstance(task, EngineTask) else task
    solver.reset(solved)
    return env, solver, solved
