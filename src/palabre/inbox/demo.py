"""The inbox part of the demo brand: business hours, skills, saved replies, articles, thread states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from palabre.conversations.models import Item
from palabre.inbox import hours, services
from palabre.inbox.models import Conversation, MemberProfile, Status
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.services import Actor

SAVED_REPLIES = [
    (
        "Retard de livraison",
        "fr",
        "Bonjour {first_name}, nous sommes désolés pour ce retard. Pouvez-vous nous envoyer votre numéro "
        "de commande en message privé ? Nous regardons avec l'entrepôt et revenons vers vous aujourd'hui.",
    ),
    (
        "Merci pour votre message",
        "fr",
        "Merci pour votre message, nous transmettons à l'équipe concernée.",
    ),
    (
        "Remerciement",
        "fr",
        "Merci beaucoup {first_name}, ça fait plaisir à toute l'équipe de {brand} !",
    ),
    (
        "Delivery delay",
        "en",
        "Hello {first_name}, we are sorry for the delay. Could you send us your order number in a direct "
        "message? We will check with the warehouse and get back to you today.",
    ),
    ("Thanks for your message", "en", "Thank you for your message, we are passing it on to the right team."),
]

ARTICLES = [
    (
        "Délais et suivi de livraison",
        "policy",
        "fr",
        "Les meubles en stock sont livrés en 5 à 10 jours ouvrés, les meubles sur commande en 6 à 8 semaines. "
        "Le suivi de commande est envoyé par e-mail dès l'expédition par le transporteur. En cas de retard de "
        "livraison de plus de 7 jours, les frais de livraison sont remboursés.",
    ),
    (
        "Retours et remboursements",
        "policy",
        "fr",
        "Vous disposez de 30 jours pour retourner un article. Le remboursement est fait sous 14 jours après "
        "réception du retour, sur le moyen de paiement d'origine. Un meuble abîmé à la livraison est repris "
        "sans frais.",
    ),
    (
        "La table Bergen",
        "product",
        "fr",
        "Table en chêne massif huilé, 180 ou 220 cm, fabriquée dans notre atelier des Vosges. Huile d'entretien "
        "à appliquer deux fois par an. Garantie 10 ans.",
    ),
    (
        "Notre histoire",
        "history",
        "fr",
        "Maison Lumière est née en 1987 dans un atelier d'ébénisterie des Vosges. Nous fabriquons toujours nos "
        "tables en France et travaillons le chêne de forêts gérées durablement.",
    ),
    (
        "Delivery times (English)",
        "faq",
        "en",
        "Furniture in stock ships within 5 to 10 working days; made-to-order pieces take 6 to 8 weeks. "
        "Tracking is sent by e-mail once the carrier picks up the order. Delivery fees are refunded when a "
        "delivery is more than 7 days late.",
    ),
]

# username: (languages, skills)
SKILLS = {
    "cm": (["fr", "en"], ["complaint", "crisis", "question"]),
    "modo": (["fr"], ["question", "praise"]),
    "agence": (["fr", "en"], ["lead", "praise"]),
}


def load_inbox_demo(
    organisation: Organisation, people: dict[str, Any], channels: dict[str, Channel], now: datetime
) -> None:
    if organisation.slug != "demo":
        return
    owner = Actor.for_user(people["camille"], organisation)
    acknowledgements = {}
    if "email" in channels:
        acknowledgements[str(channels["email"].pk)] = (
            "Bonjour, merci pour votre message. Notre équipe vous répond dès son retour, du lundi au vendredi "
            "de 9 h à 18 h."
        )
    services.update_settings(
        actor=owner,
        time_zone="Europe/Paris",
        weekly_hours={**hours.DEFAULT_WEEK, "5": [["10:00", "13:00"]]},
        holidays=[f"{now.year}-12-25", f"{now.year + 1}-01-01"],
        first_response_minutes=120,
        on_call_id=people["cm"].pk,
        auto_assign=False,
        acknowledgements=acknowledgements,
    )
    for username, (languages, skills) in SKILLS.items():
        actor = Actor.for_user(people[username], organisation)
        services.update_profile(
            actor=actor, languages=languages, skills=skills, auto_assign=True, sign_replies=True
        )
    cm = Actor.for_user(people["cm"], organisation)
    for title, language, text in SAVED_REPLIES:
        services.save_saved_reply(actor=cm, title=title, text=text, language=language)
    for title, category, language, body in ARTICLES:
        services.save_article(actor=cm, title=title, body=body, category=category, language=language)
    # The threads exist once analysis runs; build their rows now so the demo starts with some of them
    # assigned, pending or closed (the analysis recomputes the same rows later).
    roots = (
        Item.objects.for_org(organisation)
        .filter(thread_root__isnull=True)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    for root_id in roots:
        services.refresh_conversation(organisation, root_id)
    threads = list(Conversation.objects.for_org(organisation).order_by("-last_activity_at", "-pk"))
    answered = [c for c in threads if not c.awaiting_reply]
    waiting = [c for c in threads if c.awaiting_reply]
    for conversation in answered[: len(answered) // 2]:
        services.set_status(actor=cm, conversation=conversation, status=Status.CLOSED)
    for conversation in answered[len(answered) // 2 :]:
        services.set_status(actor=cm, conversation=conversation, status=Status.PENDING)
    _attribute_answers(organisation, people, cm, threads)
    modo = people["modo"]
    for index, conversation in enumerate(waiting[2:8]):
        assignee = people["cm"] if index % 2 == 0 else modo
        services.assign(actor=cm, conversation=conversation, assignee_id=assignee.pk)
    MemberProfile.objects.for_org(organisation).update(last_assigned_at=None)


def _attribute_answers(
    organisation: Organisation, people: dict[str, Any], cm: Actor, threads: list[Conversation]
) -> None:
    """The demo's answers were written on the platforms by the team: each thread the brand answered
    goes to the member who signed the answer ("— Sarah"), the founder's own account to him, the
    others to the community manager, so that the team figures name who did the work."""
    by_first_name = {person.first_name: person for person in people.values() if person.first_name}
    founder = people["admin"]
    for conversation in threads:
        channel = conversation.channel
        answers = list(
            Item.objects.for_org(organisation)
            .filter(thread_root_id=conversation.root_id, channel=channel, author__handle=channel.handle)
            .order_by("created_at", "pk")
            .values_list("text", flat=True)
        )
        if not answers:
            continue
        signed = [text.rsplit("— ", 1)[1].strip() for text in answers if "— " in text]
        person = by_first_name.get(signed[0]) if signed else None
        if channel.handle == "julien_morel_ml":
            person = founder
        try:
            services.assign(actor=cm, conversation=conversation, assignee_id=(person or people["cm"]).pk)
        except ValidationError:
            # A signer whose role may not answer in the inbox (the contributor who wrote for the
            # blog): the community manager published it.
            services.assign(actor=cm, conversation=conversation, assignee_id=people["cm"].pk)
