"""The environment and family picker the rollout and evaluation forms share: each environment
ticked (several, or one with radio buttons) with its families to tick under it; none ticked in
an environment means all of its families. Rendered by `environments/_family_picker.html`, with
`static/js/family_picker.js` ticking a family's environment with it."""

from typing import Any

from django import forms

from environments import selectors


class FamilyPickerForm(forms.Form):
    """A form with a `families` field of `<environment id>:<family>` values, and an environment
    field named `environment_field` (a MultipleChoiceField, or a ChoiceField for one)."""

    environment_field = "environments"
    environment_input = "checkbox"

    families = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "unknown family %(value)s"},
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.catalog = selectors.environment_list()
        self.fields[self.environment_field].choices = [(env.id, env.title) for env in self.catalog]
        self.fields["families"].choices = [
            (f"{env.id}:{name}", family.title)
            for env in self.catalog
            for name, family in env.families.items()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ticked = _as_set(data.get(self.environment_field))
        stray = {value.split(":")[0] for value in data.get("families") or []} - ticked
        if stray:
            self.add_error(
                "families",
                "tick the environment of each family you chose: " + ", ".join(sorted(stray)),
            )
        return data

    def ticked_families(self, env_id: str) -> list[str]:
        """The names of the families ticked under `env_id` (empty: none, meaning all)."""
        prefix = f"{env_id}:"
        return [
            value.removeprefix(prefix)
            for value in self.cleaned_data.get("families") or []
            if value.startswith(prefix)
        ]

    def environment_errors(self) -> forms.utils.ErrorList:
        return self[self.environment_field].errors

    def groups(self) -> list[dict]:
        """Each environment with its families, and which are ticked, for the template."""
        ticked_envs = _as_set(self[self.environment_field].value())
        ticked = set(self["families"].value() or [])
        return [
            {
                "env": env,
                "checked": env.id in ticked_envs,
                "families": [
                    {
                        "value": f"{env.id}:{name}",
                        "title": family.title,
                        "checked": f"{env.id}:{name}" in ticked,
                    }
                    for name, family in env.families.items()
                ],
            }
            for env in self.catalog
        ]


def _as_set(value: str | list[str] | None) -> set[str]:
    if not value:
        return set()
    return {value} if isinstance(value, str) else set(value)
