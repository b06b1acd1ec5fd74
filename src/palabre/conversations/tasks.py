"""Background analysis of ingested items: the pipeline's stages, per batch."""

import logging

from django_tasks import task

from palabre.conversations.pipeline import analyse_items, analyse_items_or_each

logger = logging.getLogger(__name__)


@task()
def analyse_batch(item_ids: list[int], created_ids: list[int] = ()) -> dict:  # type: ignore[assignment]
    """Run the pipeline's stages on a batch of stored items (`created_ids`: those that were new).
    Safe to run twice. An item that makes the batch fail is left unanalysed, the others are not."""
    return analyse_items_or_each(list(item_ids), created_ids)


@task()
def analyse_item(item_id: int, created: bool = True, only_unanalysed: bool = False) -> dict:
    """The pipeline on one item (a batch of one). Safe to run twice.
    `only_unanalysed`: leave it as it is if it was analysed meanwhile (the sweep of what a worker
    that died left)."""
    result = analyse_items([item_id], [item_id] if created else [], only_unanalysed=only_unanalysed)
    if item_id in result["skipped"]:
        return {"item": item_id, "skipped": result["skipped"][item_id]}
    return {"item": item_id, "language": result["languages"][item_id], "analysers": result["stages"]}
