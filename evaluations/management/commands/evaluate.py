import json
import os
import time

from django.core.management.base import BaseCommand, CommandError

from environments import observations
from environments.engine.prompts import DEFAULT_HISTORY, DEFAULT_PROMPT, HISTORY_HELP, PROMPTS
from environments.engine.rewards import REWARD_MODES
from environments.engine.splits import SPLITS
from evaluations import services
from evaluations.models import Evaluation
from rlplatform.models import Job, Role, User
from rlplatform.services import ServiceError


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _decimal(value: float | None, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"


class Command(BaseCommand):
    help = (
        "Evaluate a policy on an environment's split (a job on the rollouts queue, run by the "
        "workers), show its progress, then its report: success rate with a 95% interval, "
        "pass@k, pass^k, mean reward and steps, per family and overall."
    )

    def add_arguments(self, parser):
        parser.add_argument("environment", help="e.g. bank-v1")
        parser.add_argument("--split", choices=SPLITS, default="test")
        parser.add_argument(
            "--families", default="", help="comma-separated; default: every family of the split"
        )
        parser.add_argument(
            "--variants",
            default="",
            help="comma-separated UI variants; default: every variant the split renders",
        )
        parser.add_argument("--tasks-per-family", type=int, default=10)
        parser.add_argument("--attempts", "-k", type=int, default=1, help="attempts per task")
        parser.add_argument("--policy", choices=["scripted", "random", "chat"], default="scripted")
        parser.add_argument("--seed", type=int, default=0, help="the random policy's seed")
        parser.add_argument("--base-url", default="", help="a chat model's server, e.g. .../v1")
        parser.add_argument("--model", default="", help="a chat model's name")
        parser.add_argument(
            "--prompt",
            choices=PROMPTS,
            default=DEFAULT_PROMPT,
            help="a chat model's prompt: step (exactly an exported step row's, the action "
            "alone; the default) or reasoning (a general model thinks first)",
        )
        parser.add_argument(
            "--history",
            default=DEFAULT_HISTORY,
            help=f"the steps a chat model's prompt shows, as in exports: {HISTORY_HELP}",
        )
        parser.add_argument(
            "--api-key-env",
            default="",
            help="the name of an environment variable holding the chat model's key",
        )
        parser.add_argument("--reward-mode", choices=REWARD_MODES, help="default: sparse")
        parser.add_argument(
            "--observation-mode",
            choices=observations.TEXT_MODES,
            help="how a chat model is shown pages (default: pruned, as step rows)",
        )
        parser.add_argument(
            "--max-observation-chars", type=int, help="default for a chat model: 1800"
        )
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--name", default="", help="how the leaderboards call the run")
        parser.add_argument("--user", help="who the evaluation is by (default: the first admin)")
        parser.add_argument(
            "--no-wait", action="store_true", help="start the evaluation and return at once"
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):
        users = User.objects.filter(is_active=True)
        user = (
            users.filter(username=options["user"]).first()
            if options["user"]
            else users.filter(role=Role.ADMIN).order_by("pk").first()
        )
        if user is None:
            raise CommandError("no such user; pass --user with an active username")
        policy = {"kind": options["policy"]}
        if options["policy"] == "random":
            policy["seed"] = options["seed"]
        if options["policy"] == "chat":
            policy.update(
                base_url=options["base_url"],
                model=options["model"],
                prompt=options["prompt"],
                history=options["history"],
            )
            if options["api_key_env"]:
                policy["api_key"] = os.environ.get(options["api_key_env"], "")
        try:
            evaluation = services.evaluation_start(
                environment=options["environment"],
                split=options["split"],
                families=_names(options["families"]),
                variants=_names(options["variants"]) or None,
                tasks_per_family=options["tasks_per_family"],
                attempts=options["attempts"],
                policy=policy,
                reward_mode=options["reward_mode"],
                observation_mode=options["observation_mode"],
                max_observation_chars=options["max_observation_chars"],
                concurrency=options["concurrency"],
                name=options["name"],
                user=user,
            )
        except ServiceError as error:
            raise CommandError(
                f"{error.field}: {error.message}" if error.field else error.message
            ) from None
        self.stderr.write(f"evaluation {evaluation.pk} started (job {evaluation.job_id})")
        if options["no_wait"]:
            return
        job = self._wait(evaluation.job_id)
        if job.status != "succeeded":
            raise CommandError(f"evaluation {evaluation.pk} {job.status}: {job.error}")
        evaluation = Evaluation.objects.get(pk=evaluation.pk)
        if options["json"]:
            self.stdout.write(json.dumps(evaluation.report, indent=2))
        else:
            self._print_report(evaluation)

    def _wait(self, job_id: int) -> Job:
        while True:
            job = Job.objects.get(pk=job_id)
            width = 40
            filled = width * job.percent // 100
            self.stderr.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {job.percent:3d}% "
                f"{job.progress_done}/{job.progress_total} {job.status}",
                ending="",
            )
            self.stderr.flush()
            if job.is_finished:
                self.stderr.write("")
                return job
            time.sleep(0.5)

    def _print_report(self, evaluation: Evaluation) -> None:
        k = str(evaluation.attempts)
        header = (
            f"{'family':<28} {'tasks':>5} {'eps':>5} {'success':>8} {'95% interval':>15} "
            f"{'pass@' + k:>8} {'pass^' + k:>8} {'reward':>7} {'steps':>6}"
        )
        # A task in each UI variant is one task of the report (its pass@k is over its attempts
        # in that variant), so the tasks column counts tasks times variants.
        self.stdout.write(
            f"{evaluation.policy_label} on {evaluation.env_id}, {evaluation.split} split, "
            f"{_count(evaluation.tasks_per_family, 'task')} per family in "
            f"{_count(len(evaluation.variants), 'UI variant')} ({', '.join(evaluation.variants)}) "
            f"x {_count(evaluation.attempts, 'attempt')}"
        )
        self.stdout.write(header)
        rows = [(row["family"], row) for row in evaluation.report["families"]]
        rows.append(("all families", evaluation.report["overall"]))
        for family, figures in rows:
            low, high = figures["success_interval"] or (None, None)
            interval = f"{_percent(low)}-{_percent(high)}"
            self.stdout.write(
                f"{family:<28} {figures['tasks']:>5} {figures['episodes']:>5} "
                f"{_percent(figures['success_rate']):>8} {interval:>15} "
                f"{_percent(figures['pass_at_k'].get(k)):>8} "
                f"{_percent(figures['pass_hat_k'].get(k)):>8} "
                f"{_decimal(figures['mean_reward'], 3):>7} {_decimal(figures['mean_steps'], 1):>6}"
            )
        overall = evaluation.report["overall"]
        for label, key in (("seen UI variants", "seen"), ("held-out UI variants", "unseen")):
            if overall.get(key):
                figures = overall[key]
                self.stdout.write(
                    f"success on {label}: {_percent(figures['success_rate'])} "
                    f"({figures['successes']}/{figures['episodes']})"
                )
        if evaluation.report["overall"]["errors"]:
            self.stdout.write(
                f"{evaluation.report['overall']['errors']} episodes could not be played and are "
                "left out"
            )


def _names(listed: str) -> list[str]:
    """The names of a comma-separated option."""
    return [name.strip() for name in listed.split(",") if name.strip()]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
