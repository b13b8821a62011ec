"""The work queue at scale: next-item latency on a campaign of a million items.

    .venv/bin/python bench/queue.py [--items 1000000] [--rounds 400] [--contractors 16]

Fills a grade campaign (overlap 3) with the items on PostgreSQL with COPY, then measures
`labeling.queue.next_item_for` (the whole call: the contractor's standing locked, their lease
looked up, one SKIP LOCKED scan of the queue index, the lease inserted, two counters updated,
commit) with one contractor, then with 16 at once. Each contractor is its own process with its
own connection, and judges each item it gets (through `judgment_submit`) before asking again:
a closed loop with no thinking time, far harder than people (who take seconds an item).

Then it counts over-assignments: items holding more judgments and live leases than their
overlap, and contractors given the same item twice. Both must be 0.

Uses its own database (`rlplatform_bench_queue`, recreated each run).
"""

import sys
from pathlib import Path

# This script is named like the standard library's `queue`, which multiprocessing imports: its
# own folder must not be on the path ahead of the standard library, the repository must.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from multiprocessing import get_context  # noqa: E402

from bench.common import DATABASE, copy_grade_items, prepare_database, server_env  # noqa: E402

OVERLAP = 3


def setup_django() -> None:
    os.environ.update(server_env())
    import django

    django.setup()


def fill(items: int, contractors: int) -> tuple[int, list[int]]:
    """A grade campaign with `items` items (all on one recorded episode), and the contractors;
    return the campaign id and the contractor ids."""

    from environments import services as environment_services
    from labeling import services
    from rlplatform.models import Role, User

    manager = User.objects.create(username="bench-manager", role=Role.MANAGER)
    people = [
        User.objects.create(username=f"bench-contractor-{n}", role=Role.CONTRACTOR)
        for n in range(contractors)
    ]
    task = environment_services.task_get_or_create(env_id="bank-v1", family="pay_bill", seed=1)
    episode = environment_services.episode_abandon(
        episode=environment_services.episode_create(task=task, user=manager, actor_kind="agent")
    )
    campaign = services.campaign_create(
        created_by=manager,
        name="bench",
        kind="grade",
        schema=[{"name": "ok", "type": "single_choice", "options": ["yes", "no"]}],
        overlap=OVERLAP,
    )
    copy_grade_items(campaign=campaign, episodes=[episode], count=items, overlap=OVERLAP)
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    return campaign.pk, [person.pk for person in people]


def work(
    campaign_id: int, contractor_id: int, rounds: int, tag: str, think: tuple[float, float]
) -> tuple[list, list]:
    """One contractor: ask, think (a random time in `think`, seconds), judge, ask again.
    Returns the next-item and submit latencies (ms)."""
    import random

    from django.db import connections

    from labeling import services
    from labeling.models import Campaign
    from labeling.queue import next_item_for
    from rlplatform.models import User

    connections.close_all()  # a fresh connection of this process's own
    campaign = Campaign.objects.get(pk=campaign_id)
    contractor = User.objects.get(pk=contractor_id)
    nexts, submits = [], []
    rng = random.Random(contractor_id)
    for number in range(rounds):
        started = time.perf_counter()
        assignment = next_item_for(contractor=contractor, campaign=campaign)
        nexts.append((time.perf_counter() - started) * 1000)
        if assignment is None:
            break
        if think[1]:
            time.sleep(rng.uniform(*think))
        started = time.perf_counter()
        services.judgment_submit(
            assignment=assignment,
            contractor=contractor,
            answers={"ok": "yes"},
            idempotency_key=f"{tag}-{number}",
        )
        submits.append((time.perf_counter() - started) * 1000)
    connections.close_all()
    return nexts, submits


def _work(args):
    return work(*args)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(
    campaign_id: int, contractor_ids: list[int], rounds: int, tag: str, think=(0.0, 0.0)
) -> dict:
    from django.db import connections

    connections.close_all()  # the children must not share the parent's connection
    started = time.perf_counter()
    with ProcessPoolExecutor(len(contractor_ids), mp_context=get_context("fork")) as pool:
        results = list(
            pool.map(
                _work,
                [
                    (campaign_id, person, rounds, f"{tag}-{person}", think)
                    for person in contractor_ids
                ],
            )
        )
    elapsed = time.perf_counter() - started
    nexts = [value for result in results for value in result[0]]
    submits = [value for result in results for value in result[1]]
    return {
        "contractors": len(contractor_ids),
        "asked": len(nexts),
        "p50": statistics.median(nexts),
        "p99": percentile(nexts, 0.99),
        "max": max(nexts),
        "submit_p50": statistics.median(submits),
        "submit_p99": percentile(submits, 0.99),
        "per_second": len(submits) / elapsed,
    }


def over_assignments(campaign_id: int) -> tuple[int, int, int]:
    """(items over their overlap, repeated (item, contractor) pairs, items whose remaining
    count disagrees with their judgments and leases)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH touched AS (
                SELECT w.id, w.remaining, w.judgment_count,
                       (SELECT count(*) FROM labeling_judgment j WHERE j.item_id = w.id) AS judged,
                       (SELECT count(*) FROM labeling_assignment a
                         WHERE a.item_id = w.id AND a.status = 'active') AS leased
                FROM labeling_workitem w
                WHERE w.campaign_id = %s
                  AND w.id IN (SELECT item_id FROM labeling_assignment)
            )
            SELECT count(*) FILTER (WHERE judged + leased > %s),
                   count(*) FILTER (WHERE remaining <> %s - judged - leased)
            FROM touched
            """,
            [campaign_id, OVERLAP, OVERLAP],
        )
        over, inconsistent = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM labeling_assignment "
            "GROUP BY item_id, contractor_id HAVING count(*) > 1) AS repeated"
        )
        repeated = cursor.fetchone()[0]
    return over, repeated, inconsistent


def explain(campaign_id: int, contractor_id: int) -> str:
    """The plan of the queue's scan, to show it walks the partial index."""
    from django.db import connection, transaction

    from labeling.queue import queue_scan_sql

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + queue_scan_sql(),
            [campaign_id, contractor_id],
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=400, help="items each contractor asks for")
    parser.add_argument("--contractors", type=int, default=16)
    parser.add_argument("--think-min", type=int, default=100, help="ms a judgment takes, least")
    parser.add_argument("--think-max", type=int, default=300, help="ms a judgment takes, most")
    args = parser.parse_args()

    print(f"Preparing {DATABASE} ...", flush=True)
    prepare_database()
    setup_django()
    started = time.perf_counter()
    campaign_id, people = fill(args.items, args.contractors + 1)
    print(f"Filled a campaign with {args.items:,} items in {time.perf_counter() - started:.1f} s")

    work(campaign_id, people[-1], 30, "warm", (0.0, 0.0))  # warm the caches and the plan
    crowd = people[1 : 1 + args.contractors]
    think = (args.think_min / 1000, args.think_max / 1000)
    print(f"\nnext-item latency (ms) on {os.cpu_count()} cores; each item is judged before the "
          "next is asked:")  # fmt: skip
    print(f"{'contractors':>11} {'pace':>22} {'asked':>6} {'p50':>7} {'p99':>7} {'max':>7} "
          f"{'submit p50':>10} {'submit p99':>10} {'items/s':>8}")  # fmt: skip
    for group, pace, label in (
        ([people[0]], (0.0, 0.0), "no pause"),
        (crowd, think, f"{args.think_min}-{args.think_max} ms a judgment"),
        (crowd, (0.0, 0.0), "no pause (saturated)"),
    ):
        row = run(campaign_id, group, args.rounds, f"run{len(group)}{label[:2]}", pace)
        print(
            f"{row['contractors']:>11} {label:>22} {row['asked']:>6} {row['p50']:>7.2f} "
            f"{row['p99']:>7.2f} {row['max']:>7.2f} {row['submit_p50']:>10.2f} "
            f"{row['submit_p99']:>10.2f} {row['per_second']:>8.0f}",
            flush=True,
        )
    over, repeated, inconsistent = over_assignments(campaign_id)
    print(f"\nover-assigned items: {over}; repeated (item, contractor): {repeated}; "
          f"remaining counts out of step: {inconsistent}")  # fmt: skip
    print("\nThe queue scan (EXPLAIN ANALYZE):")
    print(explain(campaign_id, people[0]))
    if over or repeated or inconsistent:
        sys.exit(1)


if __name__ == "__main__":
    main()
