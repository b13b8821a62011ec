"""Pages: start exports, watch them, download their files."""

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from environments.engine import list_environments
from environments.engine.splits import SPLITS
from environments.models import ActorKind
from exports import selectors, services
from exports.kinds import KINDS
from exports.models import ExportFormat
from labeling.selectors import campaign_list_for
from rlplatform.decorators import role_required
from rlplatform.inputs import FloatField
from rlplatform.models import Role
from rlplatform.services import ServiceError


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=[(kind.name, kind.title) for kind in KINDS.values()])
    format = forms.ChoiceField(choices=ExportFormat.choices)
    environments = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all."
    )
    actor_kind = forms.ChoiceField(
        required=False, choices=[("", "Anyone (the kind's default)"), *ActorKind.choices]
    )
    success = forms.ChoiceField(
        required=False,
        choices=[("", "Either (the kind's default)"), ("true", "Succeeded"), ("false", "Failed")],
    )
    granularity = forms.ChoiceField(
        required=False,
        choices=[("", "One decision each (default)"), ("trajectory", "One trajectory each")],
        help_text="sft, preference, stepwise and unpaired",
    )
    split = forms.ChoiceField(
        required=False,
        choices=[("", "Every split (tasks: train)"), *((split, split) for split in SPLITS)],
        help_text="Only rows of tasks in this split; held-out families and UI variants are in "
        "test only.",
    )
    campaigns = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all."
    )
    min_confidence = FloatField(
        required=False,
        min_value=0,
        max_value=1,
        help_text="Only labels at least this confident (adjudicated: 1). Empty: any.",
    )
    include_unresolved = forms.BooleanField(
        required=False,
        label="Include unresolved and in-review items",
        help_text="Left out by default: their judges tie or split, or a reviewer has not "
        "decided yet. Included, they carry the judges' aggregate (never a tied question).",
    )

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environments"].choices = [(env.id, env.title) for env in list_environments()]
        self.fields["campaigns"].choices = [
            (str(campaign.pk), f"{campaign.name} ({campaign.get_kind_display().lower()})")
            for campaign in campaigns
        ]

    def filters(self) -> dict:
        data = self.cleaned_data
        filters: dict = {}
        if data["environments"]:
            filters["environments"] = data["environments"]
        if data["actor_kind"]:
            filters["actor_kind"] = data["actor_kind"]
        if data["success"]:
            filters["success"] = data["success"] == "true"
        if data["granularity"]:
            filters["granularity"] = data["granularity"]
        if data["split"]:
            filters["split"] = data["split"]
        if data["campaigns"]:
            filters["campaigns"] = sorted(int(pk) for pk in data["campaigns"])
        if data["min_confidence"] is not None:
            filters["min_confidence"] = data["min_confidence"]
        if data["include_unresolved"]:
            filters["include_unresolved"] = True
        return filters


@role_required(Role.MANAGER)
def export_list(request: HttpRequest) -> HttpResponse:
    form = ExportForm(
        request.POST or None, campaigns=campaign_list_for(user=request.user).order_by("name")
    )
    if request.method == "POST" and form.is_valid():
        services.export_start(
            kind=form.cleaned_data["kind"],
            format=form.cleaned_data["format"],
            filters=form.filters(),
            created_by=request.user,
        )
        return redirect("exports")
    return render(
        request,
        "exports/exports.html",
        {
            "form": form,
            "exports": selectors.export_list_for(user=request.user)[:25],
            "kinds": KINDS.values(),
        },
        status=400 if form.errors else 200,
    )


@role_required(Role.MANAGER)
def export_file(request: HttpRequest, export_id: int, name: str) -> HttpResponse | FileResponse:
    export = get_object_or_404(selectors.export_list_for(user=request.user), pk=export_id)
    try:
        file = services.export_file_open(export=export, name=name)
    except ServiceError as error:
        if error.code == "not_found":
            raise Http404(error.message) from None
        return render(request, "400.html", {"message": error.message}, status=409)
    return FileResponse(file, as_attachment=True, filename=f"{export.kind}-{export.pk}-{name}")
