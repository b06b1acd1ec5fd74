"""Every change to contests and polls: permission, the write, the audit entry."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.conversations.models import Contact, Item, ItemKind
from palabre.conversations.services import surviving_contact
from palabre.orgs.crypto import decrypt_json, encrypt_json
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.programmes import draw as verifiable
from palabre.programmes.hunters import EntrantFacts, score_entrants
from palabre.programmes.models import Contest, ContestEntry, ContestStatus, EntryReview, Poll
from palabre.programmes.polls import PollOption, count_votes

ENTRY_KINDS = (ItemKind.COMMENT, ItemKind.REPLY)
MAX_WINNERS = 100
MAX_POLL_OPTIONS = 10


def _own_posts(actor: Actor, post_ids: list[int]) -> list[Item]:
    posts = list(Item.objects.visible_to(actor).filter(pk__in=post_ids))
    if len(posts) != len(set(post_ids)):
        raise NotInOrganisation(_("A post of this contest does not exist in this organisation."))
    return posts


# --- contests -----------------------------------------------------------------------------------


@transaction.atomic
def create_contest(
    *, actor: Actor, title: str, rules: str, post_ids: list[int], closes_at: datetime, winners: int = 1
) -> Contest:
    """A contest, its secret seed drawn now and its commitment ready for the rules page."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    errors = {}
    if not title.strip():
        errors["title"] = _("Give the contest a title.")
    if not 1 <= winners <= MAX_WINNERS:
        errors["winners_wanted"] = _("Between 1 and %(max)s winners.") % {"max": MAX_WINNERS}
    if not post_ids:
        errors["posts"] = _("Choose at least one post whose comments are the entries.")
    if closes_at <= timezone.now():
        errors["closes_at"] = _("The closing time must be in the future.")
    if errors:
        raise ValidationError(errors)
    posts = _own_posts(actor, post_ids)
    seed = verifiable.new_seed()
    contest = Contest.objects.create(
        organisation=actor.organisation,
        title=title.strip(),
        rules=rules.strip(),
        closes_at=closes_at,
        winners_wanted=winners,
        seed_ciphertext=encrypt_json({"seed": seed}),
        commitment=verifiable.commitment(seed),
    )
    contest.posts.set(posts)
    record(actor, "programmes.contest_created", contest, after={"commitment": contest.commitment})
    return contest


def get_contest(*, actor: Actor, contest_id: int) -> Contest:
    actor.require(Perm.ITEMS_VIEW)
    contest = Contest.objects.visible_to(actor).filter(pk=contest_id).first()
    if contest is None:
        raise NotInOrganisation(_("No such contest in this organisation."))
    return contest


def _locked(actor: Actor, contest: Contest) -> Contest:
    """The contest's row, locked for the change, if it is the actor's organisation's."""
    locked = Contest.objects.visible_to(actor).select_for_update().filter(pk=contest.pk).first()
    if locked is None:
        raise NotInOrganisation(_("No such contest in this organisation."))
    return locked


# On the site and e-mail channels a handle is the person's e-mail address (the widget's, Akismet's)
# or, from Akismet without one, their IP address: the public draw page must not list them.
_EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _private(handle: str) -> bool:
    if _EMAIL_ADDRESS.fullmatch(handle):
        return True
    try:
        ipaddress.ip_address(handle)
    except ValueError:
        return False
    return True


def _reference(item: Item) -> str:
    """An entry as the public draw page lists it: `platform:handle`, or `platform:contact-N` for an
    entrant known by no public handle."""
    handle = item.author.handle if item.author_id else ""
    if not handle or _private(handle):
        handle = f"contact-{item.contact_id}"
    return f"{item.channel.platform}:{handle}"


def _candidate_items(contest: Contest) -> QuerySet[Item]:
    post_ids = list(contest.posts.values_list("pk", flat=True))
    return (
        Item.objects.for_org(contest.organisation)
        .filter(kind__in=ENTRY_KINDS, contact__isnull=False)
        .filter(Q(thread_root_id__in=post_ids) | Q(parent_id__in=post_ids))
        .filter(created_at__lte=contest.closes_at)
        .select_related("author", "channel", "contact")
        .order_by("created_at", "pk")
    )


def _facts(contest: Contest, firsts: dict[int, Item], now: datetime) -> list[EntrantFacts]:
    """What scores each entrant, in three queries whatever their number."""
    contact_ids = list(firsts)
    # Every contest's posts of the organisation: a comment under any of them is a contest entry.
    contest_posts = Contest.posts.through.objects.filter(contest__organisation=contest.organisation).values(
        "item_id"
    )
    other_messages = dict(
        Item.objects.for_org(contest.organisation)
        .filter(contact_id__in=contact_ids)
        .exclude(Q(thread_root_id__in=contest_posts) | Q(parent_id__in=contest_posts))
        .values("contact_id")
        .annotate(n=Count("pk"))
        .values_list("contact_id", "n")
    )
    other_contests = dict(
        ContestEntry.objects.filter(
            contest__organisation=contest.organisation,
            contact_id__in=contact_ids,
            created_at__gte=now - timedelta(days=365),
        )
        .exclude(contest=contest)
        .values("contact_id")
        .annotate(n=Count("contest_id", distinct=True))
        .values_list("contact_id", "n")
    )
    facts = []
    for contact_id, item in firsts.items():
        account = (item.raw or {}).get("account") if isinstance(item.raw, dict) else None
        age_days = None
        if isinstance(account, dict) and account.get("created_at"):
            try:
                created = datetime.fromisoformat(str(account["created_at"]).replace("Z", "+00:00"))
                age_days = max(0, (item.created_at - created).days)
            except ValueError:
                age_days = None
        facts.append(
            EntrantFacts(
                reference=_reference(item),
                handle=item.author.handle if item.author_id else "",
                entry_text=item.text,
                other_messages=other_messages.get(contact_id, 0),
                # This contest counts too: "entered N contests" includes the one under review.
                contests_entered_this_year=other_contests.get(contact_id, 0) + 1,
                account_age_days=age_days,
                followers=item.author.followers if item.author_id else None,
            )
        )
    return facts


@transaction.atomic
def collect_entries(*, actor: Actor, contest: Contest, now: datetime | None = None) -> int:
    """(Re)read the entries: one per person, their first comment, each scored for contest hunting.
    Reviews already made are kept. Returns the number of entries."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    contest = _locked(actor, contest)
    if contest.status != ContestStatus.OPEN:
        raise ValidationError(_("The entries of a closed contest are frozen."))
    now = now or timezone.now()
    firsts: dict[int, Item] = {}
    brand_handles = {}
    for item in _candidate_items(contest):
        own = brand_handles.setdefault(item.channel_id, (item.channel.handle or "").lstrip("@").lower())
        if item.author_id and item.author.handle.lstrip("@").lower() == own:
            continue  # the brand's own answers under its post
        person = surviving_contact(item.contact)
        firsts.setdefault(person.pk, item)
    scores = {s.reference: s for s in score_entrants(_facts(contest, firsts, now))}
    kept = {e.contact_id: e for e in contest.entries.all()}
    seen_references: set[str] = set()
    for contact_id, item in firsts.items():
        reference = _reference(item)
        if reference in seen_references:
            continue
        seen_references.add(reference)
        score = scores[reference]
        entry = kept.pop(contact_id, None) or ContestEntry(contest=contest, contact_id=contact_id)
        entry.item = item
        entry.reference = reference
        entry.hunter_score = score.score
        entry.hunter_reasons = [{"signal": signal, "figures": figures} for signal, figures in score.reasons]
        entry.created_at = item.created_at
        entry.save()
    for stale in kept.values():  # a comment deleted since, or a contact merged into another entrant
        stale.delete()
    record(actor, "programmes.entries_collected", contest, after={"entries": len(seen_references)})
    return len(seen_references)


@transaction.atomic
def review_entry(*, actor: Actor, entry: ContestEntry, keep: bool, note: str = "") -> ContestEntry:
    actor.require(Perm.PROGRAMMES_MANAGE)
    entry = ContestEntry.objects.select_for_update().select_related("contest").get(pk=entry.pk)
    if entry.contest.organisation_id != actor.organisation.pk:
        raise NotInOrganisation(_("No such entry in this organisation."))
    if entry.contest.status != ContestStatus.OPEN:
        raise ValidationError(_("The entries of a closed contest are frozen."))
    if not keep and not note.strip():
        raise ValidationError({"review_note": _("Say why the entry is excluded: the entrant may ask.")})
    if "\x00" in note:
        # PostgreSQL cannot store it in text (a server error there; SQLite kept it).
        raise ValidationError({"review_note": _("The note holds a character that cannot be stored.")})
    entry.review = EntryReview.KEPT if keep else EntryReview.EXCLUDED
    entry.review_note = note.strip()[:300]
    entry.reviewed_by_label = actor.label
    entry.save(update_fields=["review", "review_note", "reviewed_by_label"])
    record(
        actor, "programmes.entry_reviewed", entry, after={"review": entry.review, "note": entry.review_note}
    )
    return entry


def eligible_references(contest: Contest) -> list[str]:
    return sorted(contest.entries.exclude(review=EntryReview.EXCLUDED).values_list("reference", flat=True))


@transaction.atomic
def close_contest(*, actor: Actor, contest: Contest, now: datetime | None = None) -> Contest:
    """Freeze the eligible entries and publish their digest; the seed is still secret."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    contest = _locked(actor, contest)
    now = now or timezone.now()
    if contest.status != ContestStatus.OPEN:
        raise ValidationError(_("This contest is already closed."))
    if now < contest.closes_at:
        raise ValidationError({"closes_at": _("The contest is still open for entries.")})
    references = eligible_references(contest)
    if not references:
        raise ValidationError(_("No eligible entry: nothing to draw from."))
    contest.entries_digest = verifiable.entries_digest(references)
    contest.status = ContestStatus.CLOSED
    contest.closed_at = now
    contest.save(update_fields=["entries_digest", "status", "closed_at"])
    record(
        actor,
        "programmes.contest_closed",
        contest,
        after={"entries": len(references), "digest": contest.entries_digest},
    )
    return contest


@transaction.atomic
def draw_contest(*, actor: Actor, contest: Contest, now: datetime | None = None) -> Contest:
    """Reveal the seed and draw the winners from the frozen list."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    contest = _locked(actor, contest)
    if contest.status != ContestStatus.CLOSED:
        raise ValidationError(_("Close the contest before the draw: its entries must be frozen first."))
    references = eligible_references(contest)
    if verifiable.entries_digest(references) != contest.entries_digest:
        # Entries cannot change after the close (services refuse it): a changed list is tampering.
        raise ValidationError(_("The entries changed since the close; the draw is refused."))
    seed = decrypt_json(contest.seed_ciphertext)["seed"]
    contest.winners = verifiable.draw(seed, references, contest.winners_wanted)
    contest.seed_revealed = seed
    contest.status = ContestStatus.DRAWN
    contest.drawn_at = now or timezone.now()
    contest.save(update_fields=["winners", "seed_revealed", "status", "drawn_at"])
    record(actor, "programmes.contest_drawn", contest, after={"seed": seed, "winners": contest.winners})
    return contest


def published_record(contest: Contest) -> dict:
    """What the public page and `palabre contest verify` read: nothing secret before the draw."""
    drawn = contest.status == ContestStatus.DRAWN
    return {
        "procedure": verifiable.PROCEDURE,
        "contest": contest.title,
        "commitment": contest.commitment,
        "closes_at": contest.closes_at.isoformat(),
        "winners_wanted": contest.winners_wanted,
        "entries_digest": contest.entries_digest or None,
        "entries": eligible_references(contest) if contest.status != ContestStatus.OPEN else None,
        "seed": contest.seed_revealed if drawn else None,
        "winners": contest.winners if drawn else None,
    }


# --- polls --------------------------------------------------------------------------------------


def create_poll(
    *, actor: Actor, post_id: int, question: str, options: list[dict], closes_at: datetime
) -> Poll:
    actor.require(Perm.PROGRAMMES_MANAGE)
    cleaned = [
        asdict(PollOption(label=str(o.get("label", "")).strip(), emoji=str(o.get("emoji", "")).strip()))
        for o in options
    ]
    errors = {}
    if not question.strip():
        errors["question"] = _("Write the question.")
    if not 2 <= len(cleaned) <= MAX_POLL_OPTIONS or any(not o["label"] for o in cleaned):
        errors["options"] = _("Between 2 and %(max)s options, each with a label.") % {"max": MAX_POLL_OPTIONS}
    elif len({o["label"].lower() for o in cleaned}) != len(cleaned):
        errors["options"] = _("Two options have the same label.")
    if errors:
        raise ValidationError(errors)
    (post,) = _own_posts(actor, [post_id])
    poll = Poll.objects.create(
        organisation=actor.organisation,
        post=post,
        question=question.strip(),
        options=cleaned,
        closes_at=closes_at,
    )
    record(actor, "programmes.poll_created", poll)
    return poll


def count_poll(*, actor: Actor, poll: Poll, now: datetime | None = None) -> Poll:
    """Count the replies under the poll's post written before it closed: one vote per person."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    if poll.organisation_id != actor.organisation.pk:
        raise NotInOrganisation(_("No such poll in this organisation."))
    replies = (
        Item.objects.for_org(poll.organisation)
        .filter(kind__in=ENTRY_KINDS, contact__isnull=False)
        .filter(Q(thread_root=poll.post) | Q(parent=poll.post))
        .filter(created_at__lte=poll.closes_at)
        .select_related("contact")
        .order_by("created_at", "pk")
    )
    people: dict[int, Contact] = {}
    ballots = []
    for item in replies:
        person = people.setdefault(item.contact_id, surviving_contact(item.contact))
        ballots.append((str(person.pk), item.text))
    options = [PollOption(**o) for o in poll.options]
    result = count_votes(ballots, options)
    poll.result = {
        "counts": {str(number): result.counts[number] for number in range(1, len(options) + 1)},
        "voters": result.voters,
        "changed_minds": result.changed_minds,
        "unclear": result.unclear,
        "not_votes": result.not_votes,
    }
    poll.counted_at = now or timezone.now()
    poll.save(update_fields=["result", "counted_at"])
    record(actor, "programmes.poll_counted", poll, after=poll.result)
    return poll


# --- announcements, drafted through publishing -------------------------------------------------


def _draft(actor: Actor, *, title: str, channel_id: int, text: str):
    from palabre.publishing.services import create_post

    return create_post(actor=actor, title=title[:200], variants=[{"channel": channel_id, "text": text}])


def draft_winners_announcement(*, actor: Actor, contest: Contest, check_url: str):
    """A publishing draft naming the winners and where to check the draw; it goes through approval."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    if contest.organisation_id != actor.organisation.pk:
        raise NotInOrganisation(_("No such contest in this organisation."))
    if contest.status != ContestStatus.DRAWN:
        raise ValidationError(_("Draw the contest before announcing its winners."))
    post = contest.posts.select_related("channel").first()
    winners = ", ".join(_handle_of(reference) for reference in contest.winners)
    text = _(
        "Thank you all for taking part! The winners of “%(title)s” are %(winners)s. Check the draw: %(url)s"
    ) % {"title": contest.title, "winners": winners, "url": check_url}
    return _draft(
        actor, title=_("Winners: %(title)s") % {"title": contest.title}, channel_id=post.channel_id, text=text
    )


def _handle_of(reference: str) -> str:
    handle = reference.split(":", 1)[-1]
    return handle if handle.startswith("@") else f"@{handle}"


def draft_poll_result(*, actor: Actor, poll: Poll):
    """A publishing draft with the poll's result, as a reply-able post on the poll's channel."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    if poll.organisation_id != actor.organisation.pk:
        raise NotInOrganisation(_("No such poll in this organisation."))
    if not poll.counted_at:
        raise ValidationError(_("Count the votes before publishing the result."))
    voters = poll.result.get("voters", 0)
    lines = []
    for number, option in enumerate(poll.options, start=1):
        votes = poll.result["counts"].get(str(number), 0)
        share = round(100 * votes / voters) if voters else 0
        label = f"{option['emoji']} {option['label']}".strip()
        lines.append(_("%(option)s: %(share)s%%") % {"option": label, "share": share})
    text = _("Results of our poll “%(question)s” (%(voters)s votes):") % {
        "question": poll.question,
        "voters": voters,
    }
    text = text + "\n" + "\n".join(lines) + "\n" + _("Thank you for voting!")
    return _draft(
        actor,
        title=_("Poll result: %(question)s") % {"question": poll.question},
        channel_id=poll.post.channel_id,
        text=text,
    )
