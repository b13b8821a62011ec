from django.urls import path

from evaluations import apis, views

api_urlpatterns = [
    path("evaluations/", apis.EvaluationListApi.as_view(), name="api_evaluations"),
    path(
        "evaluations/<int:evaluation_id>/",
        apis.EvaluationDetailApi.as_view(),
        name="api_evaluation",
    ),
]

urlpatterns = [
    path("evaluations/", views.evaluation_list, name="evaluations"),
    path(
        "evaluations/<int:evaluation_id>/",
        views.evaluation_detail,
        name="evaluation_detail",
    ),
    path(
        "evaluations/<int:evaluation_id>/results.csv",
        views.evaluation_download,
        {"extension": "csv"},
        name="evaluation_csv",
    ),
    path(
        "evaluations/<int:evaluation_id>/results.json",
        views.evaluation_download,
        {"extension": "json"},
        name="evaluation_json",
    ),
]
