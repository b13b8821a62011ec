"""How long a GRPO completion is when a model plays a whole scripted-solver episode through
the TRL environment factory's tools, per environment and observation setting.

    .venv/bin/python bench/observation_budget.py [--seeds 200]

A completion is what the model writes (one tool call a step) and what the tools return (the
page in the observation mode, within the budget), laid out by Qwen3's chat template as TRL
ships it, after the prompt (which holds the goal and the first page). Figures are characters,
measured; tokens are estimated at `CHARS_PER_TOKEN` characters a token (no tokenizer ships
with the repository). Episodes end as on the platform: at success or the answer.
"""

import argparse
import sys
from pathlib import Path

sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trl
from transformers.utils.chat_template_utils import render_jinja_template

from environments.engine import get_environment, list_environments, parse_action, run_episode
from environments.engine.observe import observe
from environments.trainers.grpo import (
    CHARS_PER_TOKEN,
    DEFAULT_MAX_OBSERVATION_CHARS,
    DEFAULT_OBSERVATION_MODE,
    RECOMMENDED_MAX_COMPLETION_LENGTH,
    RECOMMENDED_MAX_TOOL_CALLS,
)

TEMPLATE = (Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja").read_text()
PROMPT = [{"role": "system", "content": "tools"}, {"role": "user", "content": "task"}]


def completion_chars(
    env_id: str, family: str, seed: int, mode: str, max_chars: int | None
) -> tuple[int, int]:
    """(characters of the completion, steps) of the solver's episode of a task."""
    env = get_environment(env_id)
    task = env.make_task(family, seed)
    _, actions, _ = run_episode(env, task, env.solver())
    state = env.reset(seed, task)
    messages = list(PROMPT)
    steps = 0
    for action in actions:
        steps += 1
        before = env.render(state)
        state = env.step(state, action)
        parsed = parse_action(action)
        text = "Page:\n" + observe(env.render(state), mode, previous=before, max_chars=max_chars)
        done = state["finished"] or env.evaluate(state, task).success
        if done:
            text += "\n\nThe episode has ended (it is over): reward 1."
        messages += [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "type": "function",
                        "function": {"name": parsed.name, "arguments": parsed.args},
                    }
                ],
            },
            {"role": "tool", "name": parsed.name, "content": text},
        ]
        if done:
            break
    prompt = render(PROMPT, add_generation_prompt=True)
    return len(render(messages)) - len(prompt), steps


def render(messages: list[dict], add_generation_prompt: bool = False) -> str:
    rendered, _ = render_jinja_template(
        conversations=[messages],
        chat_template=TEMPLATE,
        add_generation_prompt=add_generation_prompt,
        enable_thinking=False,
    )
    return rendered[0]


def longest(
    env_id: str, mode: str, max_chars: int | None, seeds: range
) -> tuple[int, int, str, int]:
    """(characters, steps, family, seed) of the environment's longest completion."""
    worst = (0, 0, "", 0)
    for family in get_environment(env_id).families:
        for seed in seeds:
            chars, steps = completion_chars(env_id, family, seed, mode, max_chars)
            worst = max(worst, (chars, steps, family, seed))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args()
    seeds = range(args.seeds)
    budget = DEFAULT_MAX_OBSERVATION_CHARS
    print(
        f"longest completion over seeds 0-{args.seeds - 1} of every family; tokens at "
        f"{CHARS_PER_TOKEN} characters a token; max_completion_length "
        f"{RECOMMENDED_MAX_COMPLETION_LENGTH}, {RECOMMENDED_MAX_TOOL_CALLS} tool calls"
    )
    print("environment  mode    budget  characters  steps  ~tokens  task")
    for env in list_environments():
        for mode, max_chars in (
            ("axtree", None),
            ("pruned", budget),
            (DEFAULT_OBSERVATION_MODE, budget),
        ):
            chars, steps, family, seed = longest(env.id, mode, max_chars, seeds)
            print(
                f"{env.id:<12} {mode:<7} {max_chars or '-':>6} {chars:>11,} {steps:>6} "
                f"{chars // CHARS_PER_TOKEN:>8,}  {family}#{seed}"
            )


if __name__ == "__main__":
    main()
