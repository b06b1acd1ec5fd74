"""What the widget tests share: the brand's blog, texts the engine publishes, holds and rejects, and how
a reader posts (a form shown long enough ago)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from palabre.compat.widget import comments as widget
from palabre.moderation.models import ItemModeration, ModerationSite
from palabre.orgs.services import Actor

BLOG = "https://blog.maison-dupont.fr"
PAGE = f"{BLOG}/2024/05/canape-oslo"
SUSPECT = "remboursement"
BANNED = "arnaque"
FINE_TEXT = "Bonjour, le canapé Oslo existe-t-il en vert ?"
HELD_TEXT = f"Je demande le {SUSPECT} de ma commande, merci de me répondre."
BANNED_TEXT = f"Cette boutique est une {BANNED}."


@dataclass
class Blog:
    site: ModerationSite
    actor: Actor

    def token(self, seconds_ago: float = 30.0) -> str:
        return widget.issue_form_token(self.site, issued_at=time.time() - seconds_ago)

    def comment(self, **fields) -> dict[str, str]:
        data = {
            "name": "Léa Martin",
            "email": "lea.martin@example.org",
            "text": FINE_TEXT,
            "website": "",
            "page": PAGE,
            "form_token": self.token(),
        }
        data.update(fields)
        return data

    @property
    def comments_url(self) -> str:
        return f"/widget/{self.site.public_id}/comments"

    @property
    def form_url(self) -> str:
        return f"/widget/{self.site.public_id}/form"

    @property
    def embed_url(self) -> str:
        return f"/widget/{self.site.public_id}/embed.js"


def status_of(item) -> str:
    return ItemModeration.objects.get(item=item).status
