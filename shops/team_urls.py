from django.urls import path

from . import views

app_name = "team"

urlpatterns = [
    path("", views.team_page, name="page"),
    path("members/<int:pk>/role", views.member_role, name="role"),
    path("members/<int:pk>/remove", views.member_remove, name="remove"),
    path("invitations/<int:pk>/revoke", views.invitation_revoke, name="revoke"),
    path("refund-limit", views.refund_limit, name="refund_limit"),
]
