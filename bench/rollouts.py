"""Rollout throughput: episodes per minute and steps per second of a rollout job with the
scripted policy, on one and on two Celery worker processes, against PostgreSQL and Redis.

    .venv/bin/python bench/rollouts.py [--seeds 25]

Each run plans `seeds` episodes of every bank family; every step is persisted.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

# The project root instead of bench/ itself, whose queue.py would shadow the standard library.
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PY, ROOT, prepare_database, run_django, server_env


def start_workers(count: int, queues: str = "default,rollouts") -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [
                PY,
                "-m",
                "celery",
                "-A",
                "rlplatform",
                "worker",
                "--queues",
                queues,
                "--concurrency",
                "1",
                "--hostname",
                f"bench{index}@%h",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=server_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index in range(count)
    ]


START_AND_WAIT = """
import time
from environments.models import Step
from environments.rollouts import rollout_start
from rlplatform.models import Job, User
user = User.objects.get(username='bench')
started = time.perf_counter()
job = rollout_start(spec={{"environments": ["bank-v1"], "count": {seeds}, "seed_start": {start},
    "policy": {{"kind": "scripted"}}, "concurrency": {concurrency}}}, user=user)
while not Job.objects.get(pk=job.pk).is_finished:
    time.sleep(0.2)
elapsed = time.perf_counter() - started
job.refresh_from_db()
steps = Step.objects.filter(episode__rollout_item__job=job).count()
print(job.status, job.result["episodes"], steps, elapsed, sorted(set(
    job.rollout_items.values_list("worker", flat=True))).__len__())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=25)
    args = parser.parse_args()
    prepare_database()
    run_django(
        "from rlplatform.services import user_create\n"
        "user_create(username='bench', password=None, role='manager'); print('ok')"
    )
    print("\n## Rollouts: scripted policy on bank-v1, every step persisted\n")
    print("| workers | episodes | steps | seconds | episodes/min | steps/s | processes used |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for run, workers in enumerate((1, 2)):
        processes = start_workers(workers)
        try:
            time.sleep(4)
            status, episodes, steps, elapsed, used = run_django(
                START_AND_WAIT.format(seeds=args.seeds, start=run * 10_000, concurrency=4)
            ).split()
            elapsed = float(elapsed)
            print(
                f"| {workers} | {episodes} | {steps} | {elapsed:.1f} | "
                f"{int(episodes) / elapsed * 60:,.0f} | {int(steps) / elapsed:,.0f} | {used} |"
            )
            if status != "succeeded":
                print(f"the rollout ended {status}")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait()


if __name__ == "__main__":
    main()
