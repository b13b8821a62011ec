"""Export throughput and memory against PostgreSQL.

    .venv/bin/python bench/export.py [--episodes 10000] [--steps 100] [--kinds trajectories,sft]
        [--repeat 1]

Fills the bench database with finished episodes of `steps` steps each (observations are real
pages of the bank environment), at two sizes (1% of the episodes, then all of them), and for
each size, kind and format prints: rows and steps per second, the ratio of the export's time to
PostgreSQL's own `COPY (SELECT ...) TO STDOUT` of the same steps, and the exporting process's
peak memory. `trajectories` writes an episode a row; `sft` a step a row (one decision: the goal,
the history and the pruned page as the prompt), the default rows of the label kinds too.
The export runs in its own process, exactly as a worker runs it (the job handler); with
`--repeat N`, the best of N runs (of the export, and of COPY) is shown, and the highest peak.
"""

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

# The project root instead of bench/ itself, whose queue.py would shadow the standard library.
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATABASE_URL, PY, ROOT, prepare_database, run_django, server_env

RUN_EXPORT = """
import resource, time
from exports import services
from rlplatform.models import User
from rlplatform.services import job_execute
user = User.objects.get(username="bench")
export = services.export_start(
    kind="{kind}", format="{fmt}", filters={filters}, created_by=user
)
started = time.perf_counter()
job_execute(job_id=export.job_id, handler=services.export_run)
elapsed = time.perf_counter() - started
export.refresh_from_db()
assert export.job.status == "succeeded", export.job.error
print(export.files[0]["rows"], elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""

COPY_SQL = (
    "COPY (SELECT e.id, e.env_id, t.family, e.seed, t.goal, e.status, e.success, e.reward, "
    "e.outcome, s.index, s.observation, s.action, s.reward, s.terminated, s.truncated, s.error "
    "FROM environments_episode e JOIN environments_task t ON t.id = e.task_id "
    "JOIN environments_step s ON s.episode_id = e.id ORDER BY e.id, s.index) TO STDOUT"
)


def sample_pages() -> list[str]:
    """Real observations: the pages the bank's scripted solver sees."""
    from environments.engine import get_environment, page_to_json, run_episode

    env = get_environment("bank-v1")
    pages = []
    for family in env.families:
        task = env.make_task(family, 1)
        states, _, _ = run_episode(env, task, env.solver())
        pages += [json.dumps(page_to_json(env.render(state))) for state in states]
    return pages


def fill(episodes: int, steps: int, first_id: int) -> None:
    """Add finished episodes with their steps by COPY (fast enough for a million steps)."""
    import psycopg

    pages = sample_pages()
    outcome = json.dumps(
        {"reward": 1.0, "success": True, "checks": [], "reward_components": {"done": 1.0}}
    )
    with psycopg.connect(DATABASE_URL) as conn:
        user_id, task_id = conn.execute(
            "SELECT u.id, t.id FROM rlplatform_user u, environments_task t "
            "WHERE u.username = 'bench' LIMIT 1"
        ).fetchone()
        with conn.cursor().copy(
            "COPY environments_episode (id, task_id, env_id, seed, actor_kind, user_id, source, "
            "status, state, step_count, reward, success, outcome, metadata, reward_mode, "
            "observation_mode, paid_checks, variant, created_at, updated_at, finished_at) "
            "FROM STDIN"
        ) as copy:
            for episode in range(first_id, first_id + episodes):
                copy.write_row(
                    (
                        episode,
                        task_id,
                        "bank-v1",
                        episode,
                        "agent",
                        user_id,
                        "bench",
                        "terminated",
                        "{}",
                        steps,
                        1.0,
                        True,
                        outcome,
                        "{}",
                        "sparse",
                        "axtree",
                        "[]",
                        "default",
                        "2026-01-01T00:00:00Z",
                        "2026-01-01T00:00:00Z",
                        "2026-01-01T00:00:00Z",
                    )
                )
        with conn.cursor().copy(
            "COPY environments_step (episode_id, index, action, observation, reward, terminated, "
            "truncated, error, apply_ms, created_at) FROM STDIN"
        ) as copy:
            for episode in range(first_id, first_id + episodes):
                for index in range(steps):
                    last = index == steps - 1
                    copy.write_row(
                        (
                            episode,
                            index,
                            f"click('{index % 20 + 1}')",
                            pages[(episode + index) % len(pages)],
                            1.0 if last else 0.0,
                            last,
                            False,
                            "",
                            0.5,
                            "2026-01-01T00:00:00Z",
                        )
                    )
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('environments_episode', 'id'), "
            "(SELECT max(id) FROM environments_episode))"
        )
        conn.commit()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE environments_step")
        conn.execute("VACUUM ANALYZE environments_episode")


def copy_seconds() -> float:
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        started = time.perf_counter()
        sink = io.BytesIO()
        with conn.cursor().copy(COPY_SQL) as copy:
            for block in copy:
                sink.write(block)
                sink.seek(0)
                sink.truncate()
        return time.perf_counter() - started


def export_once(kind: str, fmt: str) -> tuple[int, float, int]:
    """Rows, seconds and peak MB of one export, in its own process as a worker runs it."""
    # The bench's episodes are agents' (sft takes contractors' by default).
    filters = {"actor_kind": "agent"} if kind == "sft" else {}
    code = RUN_EXPORT.format(kind=kind, fmt=fmt, filters=filters)
    out = subprocess.run(
        [PY, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=server_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[-3]), float(out[-2]), int(out[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--kinds", default="trajectories,sft", help="comma-separated")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each export and COPY; the best is shown"
    )
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    prepare_database()
    run_django(
        "from rlplatform.services import user_create\n"
        "from environments.services import task_get_or_create\n"
        "user_create(username='bench', password=None, role='admin')\n"
        "task_get_or_create(env_id='bank-v1', family='pay_bill', seed=1); print('ok')"
    )
    small = max(1, args.episodes // 100)
    print(f"\n## Exports ({args.steps} steps an episode, PostgreSQL)\n")
    print("| steps | kind | format | rows/s | steps/s | seconds | x COPY | peak MB |")
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    filled = 0
    for episodes in (small, args.episodes):
        fill(episodes - filled, args.steps, first_id=filled + 1)
        filled = episodes
        copy = min(copy_seconds() for _ in range(args.repeat))
        for kind, fmt in ((kind, fmt) for kind in kinds for fmt in ("jsonl", "parquet")):
            runs = [export_once(kind, fmt) for _ in range(args.repeat)]
            rows = runs[0][0]
            seconds = min(run[1] for run in runs)
            peak_mb = max(run[2] for run in runs)
            print(
                f"| {episodes * args.steps:,} | {kind} | {fmt} | {rows / seconds:,.0f} | "
                f"{episodes * args.steps / seconds:,.0f} | {seconds:.1f} | {seconds / copy:.1f} | "
                f"{peak_mb} |"
            )
        print(
            f"| {episodes * args.steps:,} | | COPY | | {episodes * args.steps / copy:,.0f} | "
            f"{copy:.1f} | 1.0 | |"
        )


if __name__ == "__main__":
    main()
