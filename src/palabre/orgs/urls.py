from django.contrib.auth import views as auth_views
from django.urls import path

from palabre.orgs import views
from palabre.orgs.passwords import PasswordChangeView

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="orgs/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "account/password/",
        PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="orgs/password_change_done.html"),
        name="password_change_done",
    ),
    path("language/", views.language, name="language"),
    path("organisation/switch/", views.switch_organisation, name="switch_organisation"),
    path("welcome/", views.no_organisation, name="no_organisation"),
    path("channels/", views.channels, name="channels"),
    path("channels/new/", views.channel_create, name="channel_create"),
    path("channels/<id:channel_id>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<id:channel_id>/credentials/", views.channel_credentials, name="channel_credentials"),
    path("channels/<id:channel_id>/approve/", views.channel_approve, name="channel_approve"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/invitations/<id:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/", views.invitation_code, name="invitation_code"),
    path("invitations/<str:code>/", views.invitation, name="invitation"),
    path("members/<id:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<id:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("members/<id:membership_id>/report/", views.member_report, name="member_report"),
    path("roles/", views.permission_matrix, name="permissions"),
    path("audit/", views.audit, name="audit"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
