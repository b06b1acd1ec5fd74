"""Background analysis of ingested items."""

import logging

from django_tasks import task

from palabre.conversations.models import Item
from palabre.conversations.services import analysers, mark_analysed

logger = logging.getLogger(__name__)


@task()
def analyse_item(item_id: int, created: bool = True, only_unanalysed: bool = False) -> dict:
    """Run every registered analyser on the item (language first). Safe to run twice.
    `only_unanalysed`: leave it as it is if it was analysed meanwhile (the sweep of what a worker
    that died left)."""
    item = (
        Item.objects.select_related("channel", "organisation", "author", "contact").filter(pk=item_id).first()
    )
    if item is None:
        return {"item": item_id, "skipped": "gone"}
    if only_unanalysed and item.analysed_at is not None:
        return {"item": item_id, "skipped": "analysed"}
    language = item.language
    if not language and item.text:
        from palabre.nlp.language import detect_language

        language = detect_language(item.text)
        item.language = language
    done = []
    for name, analyser in analysers():
        analyser(item, created)
        done.append(name)
    mark_analysed(item, language=language)
    return {"item": item_id, "language": language, "analysers": done}
