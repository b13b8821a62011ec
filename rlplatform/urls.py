from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from environments import urls as environments_urls
from environments.openenv import urls as openenv_urls
from evaluations import urls as evaluations_urls
from exports import urls as exports_urls
from labeling import urls as labeling_urls
from rlplatform import apis, errors, metrics, views

# Django tries patterns in order: the agent API's stepping routes come first, as they take
# most requests.
api_v1 = [
    *environments_urls.api_urlpatterns,
    path("me/", apis.MeApi.as_view(), name="api_me"),
    path("jobs/", apis.JobListApi.as_view(), name="api_jobs"),
    path("jobs/<int:job_id>/", apis.JobDetailApi.as_view(), name="api_job"),
    path("jobs/<int:job_id>/cancel/", apis.JobCancelApi.as_view(), name="api_job_cancel"),
    path(
        "statistics/recompute/",
        apis.StatisticsRecomputeApi.as_view(),
        name="api_statistics_recompute",
    ),
    path("keys/", apis.ApiKeyListApi.as_view(), name="api_keys"),
    path("keys/<int:key_id>/revoke/", apis.ApiKeyRevokeApi.as_view(), name="api_key_revoke"),
    path("users/", apis.UserListApi.as_view(), name="api_users"),
    path("users/<int:user_id>/", apis.UserDetailApi.as_view(), name="api_user"),
    path("audit/", apis.AuditEventListApi.as_view(), name="api_audit"),
    *exports_urls.api_urlpatterns,
    *evaluations_urls.api_urlpatterns,
    *openenv_urls.api_urlpatterns,
    *labeling_urls.api_urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("", views.home, name="home"),
    path("accounts/sign-in/", views.SignInView.as_view(), name="login"),
    path("accounts/sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("keys/", views.api_keys, name="keys"),
    path("keys/<int:key_id>/revoke/", views.api_key_revoke, name="key_revoke"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/role/", views.user_role_change, name="user_role_change"),
    path("audit/", views.audit_log, name="audit_log"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("statistics/recompute/", views.statistics_recompute, name="statistics_recompute"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include(environments_urls.urlpatterns)),
    path("", include(exports_urls.urlpatterns)),
    path("", include(evaluations_urls.urlpatterns)),
    path("", include(openenv_urls.urlpatterns)),
    path("", include(labeling_urls.urlpatterns)),
    path("admin/login/", views.SignInView.as_view()),
    path("admin/", admin.site.urls),
    # Unknown API paths answer in JSON too, whatever DEBUG says.
    re_path(r"^api/", errors.api_not_found),
]

handler404 = "rlplatform.errors.page_not_found"
handler500 = "rlplatform.errors.server_error"
