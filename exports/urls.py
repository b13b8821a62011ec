from django.urls import path

from exports import apis, views

api_urlpatterns = [
    path("exports/", apis.ExportListApi.as_view(), name="api_exports"),
    path("exports/<int:export_id>/", apis.ExportDetailApi.as_view(), name="api_export"),
    path(
        "exports/<int:export_id>/files/<str:name>",
        apis.ExportFileApi.as_view(),
        name="api_export_file",
    ),
    path("webhooks/", apis.WebhookListApi.as_view(), name="api_webhooks"),
    path("feeds/<str:feed>/", apis.FeedApi.as_view(), name="api_feed"),
]

urlpatterns = [
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:export_id>/files/<str:name>", views.export_file, name="export_file"),
]
