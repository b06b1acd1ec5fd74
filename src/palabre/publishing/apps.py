from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "palabre.publishing"
    label = "publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        from palabre import hooks
        from palabre.listening.hooks import crisis_mode_changed
        from palabre.orgs.signals import member_leaving
        from palabre.publishing import plugin
        from palabre.publishing.handover import hand_over_drafts

        hooks.register(plugin, name="palabre.publishing")
        member_leaving.connect(hand_over_drafts, dispatch_uid="publishing.hand_over_drafts")
        crisis_mode_changed.connect(_crisis_changed, dispatch_uid="publishing.crisis_changed")


def _crisis_changed(sender, *, organisation, active: bool, actor, **kwargs) -> None:
    from palabre.publishing import services

    services.on_crisis_changed(organisation, active=active, actor=actor)
