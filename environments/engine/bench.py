"""Steps per second of every environment's task families, on one core.

    python -m environments.engine.bench [--seeds 50] [--env bank] [--variant mixed]

For each family, the scripted solver's actions over the seeds are recorded once, then replayed
timing `step` + `render` (the hot path of an agent episode), and again adding the axtree text.
"""

from __future__ import annotations

import argparse
import time

from .page import page_to_axtree
from .policies import run_episode
from .registry import get_environment, list_environments
from .variants import VARIANTS


def bench_family(
    env_id: str, family: str, seeds: range, variant: str = "default"
) -> dict[str, float]:
    env = get_environment(env_id)
    episodes = []
    for seed in seeds:
        task = env.make_task(family, seed, variant)
        _, actions, _ = run_episode(env, task, env.solver())
        episodes.append((task, actions))
    out = {"steps": float(sum(len(a) for _, a in episodes))}
    for label, axtree in (("step+render", False), ("step+render+axtree", True)):
        elapsed = 0.0
        for task, actions in episodes:
            state = env.reset(task.seed, task)
            env.render(state)
            start = time.perf_counter()
            for action in actions:
                state = env.step(state, action)
                page = env.render(state)
                if axtree:
                    page_to_axtree(page)
            elapsed += time.perf_counter() - start
        out[label] = out["steps"] / elapsed
    start = time.perf_counter()
    for task, _ in episodes:
        env.reset(task.seed, task)
    out["reset_us"] = (time.perf_counter() - start) / len(episodes) * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--env", default=None, help="one environment id (default: all)")
    parser.add_argument("--variant", default="default", choices=VARIANTS, help="UI variant")
    args = parser.parse_args()
    envs = [get_environment(args.env)] if args.env else list_environments()
    print(f"{'family':<28}{'steps':>7}{'step+render/s':>16}{'+axtree/s':>12}{'reset µs':>10}")
    for env in envs:
        for family in env.families:
            r = bench_family(env.id, family, range(args.seeds), args.variant)
            print(
                f"{env.id + '/' + family:<28}{int(r['steps']):>7}{r['step+render']:>16,.0f}"
                f"{r['step+render+axtree']:>12,.0f}{r['reset_us']:>10,.0f}"
            )


if __name__ == "__main__":
    main()
