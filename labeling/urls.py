from django.urls import path

from labeling import apis, views

api_urlpatterns = [
    path("campaigns/", apis.CampaignListApi.as_view(), name="api_campaigns"),
    path("campaigns/<int:campaign_id>/", apis.CampaignDetailApi.as_view(), name="api_campaign"),
    path(
        "campaigns/<int:campaign_id>/status/",
        apis.CampaignStatusApi.as_view(),
        name="api_campaign_status",
    ),
    path(
        "campaigns/<int:campaign_id>/items/",
        apis.CampaignItemListApi.as_view(),
        name="api_campaign_items",
    ),
    path(
        "campaigns/<int:campaign_id>/items/generate/",
        apis.CampaignItemsGenerateApi.as_view(),
        name="api_campaign_items_generate",
    ),
    path(
        "campaigns/<int:campaign_id>/agreement/",
        apis.CampaignAgreementApi.as_view(),
        name="api_campaign_agreement",
    ),
    path(
        "campaigns/<int:campaign_id>/dashboard/",
        apis.CampaignDashboardApi.as_view(),
        name="api_campaign_dashboard",
    ),
    path(
        "campaigns/<int:campaign_id>/standings/",
        apis.CampaignStandingListApi.as_view(),
        name="api_campaign_standings",
    ),
    path(
        "campaigns/<int:campaign_id>/standings/<str:username>/resume/",
        apis.StandingResumeApi.as_view(),
        name="api_campaign_standing_resume",
    ),
    path("work-items/<int:item_id>/", apis.WorkItemDetailApi.as_view(), name="api_work_item"),
    path("judgments/", apis.JudgmentListApi.as_view(), name="api_judgments"),
    path(
        "contractors/<str:username>/profile/",
        apis.ContractorProfileApi.as_view(),
        name="api_contractor_profile",
    ),
    path("review/", apis.ReviewQueueApi.as_view(), name="api_review_queue"),
    path("review/<int:item_id>/", apis.ReviewItemApi.as_view(), name="api_review_item"),
    path("queue/", apis.QueueApi.as_view(), name="api_queue"),
    path("queue/next/", apis.QueueNextApi.as_view(), name="api_queue_next"),
    path("assignments/", apis.AssignmentListApi.as_view(), name="api_assignments"),
    path(
        "assignments/<int:assignment_id>/",
        apis.AssignmentDetailApi.as_view(),
        name="api_assignment",
    ),
    path(
        "assignments/<int:assignment_id>/submit/",
        apis.AssignmentSubmitApi.as_view(),
        name="api_assignment_submit",
    ),
    path(
        "assignments/<int:assignment_id>/skip/",
        apis.AssignmentSkipApi.as_view(),
        name="api_assignment_skip",
    ),
    path(
        "assignments/<int:assignment_id>/takeover/",
        apis.AssignmentTakeoverApi.as_view(),
        name="api_assignment_takeover",
    ),
    path(
        "assignments/<int:assignment_id>/undo/",
        apis.AssignmentUndoApi.as_view(),
        name="api_assignment_undo",
    ),
]

urlpatterns = [
    path("label/", views.hub, name="labeling_hub"),
    path("label/queue/", views.contractor_home, name="labeling_home"),
    path("label/campaigns/<int:campaign_id>/work/", views.workbench, name="labeling_work"),
    path("label/campaigns/<int:campaign_id>/next/", views.work_next, name="labeling_next"),
    path(
        "label/assignments/<int:assignment_id>/panel/",
        views.assignment_panel,
        name="labeling_panel",
    ),
    path(
        "label/assignments/<int:assignment_id>/submit/",
        views.assignment_submit,
        name="labeling_submit",
    ),
    path(
        "label/assignments/<int:assignment_id>/skip/",
        views.assignment_skip,
        name="labeling_skip",
    ),
    path(
        "label/assignments/<int:assignment_id>/undo/",
        views.assignment_undo,
        name="labeling_undo",
    ),
    path("label/manage/", views.campaign_list, name="labeling_campaigns"),
    path("label/manage/new/", views.campaign_new, name="labeling_campaign_new"),
    path("label/manage/preview/", views.campaign_preview, name="labeling_campaign_preview"),
    path("label/manage/<int:campaign_id>/", views.dashboard, name="labeling_dashboard"),
    path(
        "label/manage/<int:campaign_id>/edit/",
        views.campaign_edit,
        name="labeling_campaign_edit",
    ),
    path(
        "label/manage/<int:campaign_id>/status/",
        views.campaign_status,
        name="labeling_campaign_status",
    ),
    path(
        "label/manage/<int:campaign_id>/generate/",
        views.campaign_generate,
        name="labeling_campaign_generate",
    ),
    path(
        "label/manage/<int:campaign_id>/agreement/",
        views.campaign_agreement,
        name="labeling_campaign_agreement",
    ),
    path("label/manage/<int:campaign_id>/items/", views.item_browser, name="labeling_items"),
    path(
        "label/manage/<int:campaign_id>/items/<int:item_id>/",
        views.item_detail,
        name="labeling_item",
    ),
    path(
        "label/manage/<int:campaign_id>/items/bulk/",
        views.items_bulk,
        name="labeling_items_bulk",
    ),
    path(
        "label/manage/<int:campaign_id>/items/export/",
        views.items_export,
        name="labeling_items_export",
    ),
    path(
        "label/manage/<int:campaign_id>/standings/<int:user_id>/resume/",
        views.standing_resume,
        name="labeling_standing_resume",
    ),
    path("label/review/", views.review_queue, name="labeling_review"),
    path("label/review/<int:item_id>/", views.review_item, name="labeling_review_item"),
]
