"""Crisis detection on stored mentions, and what publishing's guardrails read from listening.

`detection` holds the statistics (pure functions); this module feeds it the organisation's
mentions and stores what it finds through `services.raise_alert`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from palabre.listening import detection
from palabre.listening.models import (
    AlertMetric,
    CrisisAlert,
    ListeningQuery,
    Mention,
    MentionMatch,
    QueryKind,
    Sentiment,
)
from palabre.listening.queries import text_head, with_text_heads
from palabre.orgs.models import Organisation

CONFIG = detection.DetectorConfig()
# How far back an evaluation looks for spikes not yet alerted (a worker that was down catches up).
LOOKBACK = timedelta(hours=3)
MAX_EXAMPLES = 5


def _events(query: ListeningQuery, since: datetime, until: datetime) -> list[tuple[datetime, bool]]:
    rows = MentionMatch.objects.filter(
        query=query, published_at__gte=since, published_at__lt=until
    ).values_list("published_at", "mention__sentiment")
    return [(moment, sentiment == Sentiment.NEGATIVE) for moment, sentiment in rows]


def detect_for_query(query: ListeningQuery, *, now: datetime | None = None) -> list[CrisisAlert]:
    from palabre.listening.services import raise_alert

    now = now or timezone.now()
    hour = timedelta(hours=1)
    end = detection.floor_time(now, timedelta(minutes=5))  # complete buckets only
    start = detection.floor_time(end - timedelta(weeks=CONFIG.history_weeks) - LOOKBACK, hour)
    events = _events(query, start, end)
    if not events:
        return []
    hourly, hourly_negative = detection.bucket_counts(events, start=start, end=end, width=hour)
    fine, fine_negative = detection.bucket_counts(events, start=start, end=end, width=timedelta(minutes=5))
    evaluate_hour = max(0, int((end - LOOKBACK - start) / hour))
    alarms, warmups = volume_alarms(fine, start=start, first=min(moment for moment, _n in events), end=end)
    alarms += detection.negative_alarms(
        hourly,
        hourly_negative,
        start=start,
        width=hour,
        history_buckets=CONFIG.history_weeks * detection.HOURS_PER_WEEK,
        config=CONFIG,
        evaluate_from=evaluate_hour,
    )
    alarms += detection.negative_alarms(
        fine,
        fine_negative,
        start=start,
        width=timedelta(minutes=5),
        history_buckets=CONFIG.history_weeks * detection.HOURS_PER_WEEK * 12,
        config=CONFIG,
        evaluate_from=evaluate_hour * 12,
    )
    # A partial last hour is still counting: its hourly bucket is judged once complete.
    alarms = [a for a in alarms if a.end <= end]
    latest = (
        CrisisAlert.objects.filter(query=query)
        .order_by("-window_start")
        .values_list("window_start", flat=True)
    )
    last = {"any": latest[0]} if latest else {}
    raised = []
    # One alert per spike: volume and negative share usually rise together; the other signals of
    # the same spike are told in its explanation.
    kept = detection.apply_cooldown(alarms, cooldown=CONFIG.cooldown, last_alert=last, per_metric=False)
    for alarm in kept:
        also = [
            {
                "metric": a.metric,
                "start": a.start.isoformat(),
                "minutes": int(a.width.total_seconds() // 60),
                "observed": a.observed,
                "expected": round(a.expected, 3),
            }
            for a in alarms
            if a is not alarm and abs(a.start - alarm.start) < CONFIG.cooldown
        ][:5]
        signal = _Signal(
            query_id=query.pk,
            metric=alarm.metric,
            bucket_minutes=int(alarm.width.total_seconds() // 60),
            window_start=alarm.start,
            window_end=alarm.end,
            observed=float(alarm.observed),
            expected=float(alarm.expected),
            score=float(alarm.score),
        )
        explanation = explain(query, alarm, rule=alarm.rule)
        # the history the volume baseline stood on (a young query's warm-up), told by the page
        stage = next(
            (warmups[a] for a in alarms if a in warmups and abs(a.start - alarm.start) < CONFIG.cooldown),
            None,
        )
        if stage:
            explanation["warmup"] = stage
        explanation["also"] = also
        alert = raise_alert(organisation=query.organisation, signal=signal, explanation=explanation, now=now)
        if alert is not None:
            raised.append(alert)
    return raised


def volume_alarms(
    fine: list[int], *, start: datetime, first: datetime, end: datetime
) -> tuple[list[detection.Alarm], dict[detection.Alarm, str]]:
    """Volume alarms known in the last `LOOKBACK` before `end`, from the streaming detector that
    `palabre listening detect` runs: fed the 5-minute counts from the query's first mention in the
    window (a young query is in its warm-up, and its alarms say so)."""
    five = timedelta(minutes=5)
    stream = detection.StreamingDetector()
    skip = max(0, (detection.floor_time(first, five) - start) // five)
    alarms, warmups = [], {}
    for j in range(skip, len(fine)):
        for known, alarm, warmup in stream.push(start + j * five, fine[j]):
            if end - LOOKBACK < known <= end:
                alarms.append(alarm)
                warmups[alarm] = warmup
    return alarms, warmups


@dataclass
class _Signal:
    query_id: int
    metric: str
    bucket_minutes: int
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    score: float


def explain(query: ListeningQuery, alarm: detection.Alarm, *, rule: str = "") -> dict:
    """Why: the driving messages (most reach, negatives first for a negative spike), the terms that
    emerged against the baseline weeks, and where the spike comes from."""
    window = Mention.objects.filter(
        matches__query=query, published_at__gte=alarm.start, published_at__lt=alarm.end
    ).select_related("source")
    mentions = list(with_text_heads(window)[:500])
    for mention in mentions:
        mention.text = mention.text_head  # the words of the start of a long post are its words here
    baseline = list(
        Mention.objects.filter(
            matches__query=query,
            published_at__gte=alarm.start - timedelta(weeks=CONFIG.history_weeks),
            published_at__lt=alarm.start,
        )
        .order_by("-published_at")
        .annotate(head=text_head())
        .values_list("head", "sentiment")[:2000]
    )
    baseline_texts = [text for text, _sentiment in baseline]
    negative_first = alarm.metric == AlertMetric.NEGATIVE_SHARE
    driving = sorted(
        mentions,
        key=lambda m: (
            -(m.sentiment == Sentiment.NEGATIVE) if negative_first else 0,
            -(m.author_reach or 0),
            -m.negative_score,
        ),
    )[:MAX_EXAMPLES]
    terms = detection.emerging_terms([m.text for m in mentions], baseline_texts, top=8)
    spelled = detection.spelled_as([m.text for m in mentions], [t.term for t in terms])
    sources = Counter(m.source.name for m in mentions)
    domains = Counter(m.domain for m in mentions if m.domain)
    negatives = sum(m.sentiment == Sentiment.NEGATIVE for m in mentions)
    nature = _nature(mentions, negatives, baseline, terms)
    return {
        "nature": nature.nature,
        "nature_signals": {
            "negative_share": nature.negative_share,
            "usual_negative_share": nature.usual_negative_share,
            "negative_z": nature.negative_z,
            "influential": nature.influential,
            "influential_negative": nature.influential_negative,
            "negative_terms": list(nature.negative_terms),
        },
        "rule": rule,
        "query": query.name,
        "mentions": len(mentions),
        "negative": negatives,
        "driving": [
            {
                "id": m.pk,
                "text": m.text[:400],
                "author": m.author_name or m.author,
                "reach": m.author_reach,
                "url": m.url,
                "sentiment": m.sentiment,
                "source": m.source.name,
            }
            for m in driving
        ],
        "terms": [
            {
                "term": t.term,  # folded: what matching reads (publishing's guardrails)
                "shown": spelled[t.term],  # as people wrote it
                "score": t.score,
                "recent": t.recent,
                "baseline": t.baseline,
            }
            for t in terms
        ],
        "sources": [{"name": name, "count": count} for name, count in sources.most_common(5)],
        "domains": [{"name": name, "count": count} for name, count in domains.most_common(5)],
    }


INFLUENTIAL_AUTHORS = 5


def _nature(
    mentions: list[Mention], negatives: int, baseline: list[tuple[str, str]], terms: list
) -> detection.SpikeNature:
    """Crisis or launch, from the spike's negative share against the weeks before, the tone of its
    most-followed authors, and whether its emerging terms are carried by negative mentions."""
    reach: dict[str, tuple[int, bool]] = {}
    for m in mentions:
        author = m.author_name or m.author
        if author and m.author_reach:
            best = reach.get(author)
            if best is None or m.author_reach > best[0]:
                reach[author] = (m.author_reach, m.sentiment == Sentiment.NEGATIVE)
    top = sorted(reach.values(), key=lambda pair: -pair[0])[:INFLUENTIAL_AUTHORS]
    words = [(detection.terms_of(m.text), m.sentiment == Sentiment.NEGATIVE) for m in mentions]
    negative_terms = []
    for term in terms:
        if term.score < 1.96:
            continue
        tones = [negative for found, negative in words if term.term in found]
        if len(tones) >= 2 and 2 * sum(tones) > len(tones):
            negative_terms.append(term.term)
    return detection.spike_nature(
        mentions=len(mentions),
        negatives=negatives,
        baseline_mentions=len(baseline),
        baseline_negatives=sum(sentiment == Sentiment.NEGATIVE for _text, sentiment in baseline),
        influential=len(top),
        influential_negative=sum(negative for _reach, negative in top),
        negative_terms=negative_terms[:3],
        config=CONFIG,
    )


def detect_for_organisation(organisation: Organisation, *, now: datetime | None = None) -> list[CrisisAlert]:
    raised = []
    for query in ListeningQuery.objects.for_org(organisation).filter(active=True):
        raised += detect_for_query(query, now=now)
    return raised


# --- for publishing's guardrails ----------------------------------------------------------------


@dataclass
class TrendingTerm:
    """A term (word or #hashtag) emerging in the organisation's mentions against its baseline."""

    term: str
    score: float
    mentions: int
    baseline_mentions: int
    negative_share: float
    examples: list[str] = field(default_factory=list)


def trending_terms(organisation: Organisation, *, since: datetime, top: int = 20) -> list[TrendingTerm]:
    """Terms emerging in the mentions since `since`, against the four weeks before it, with their
    negative share and a few example mentions (publishing warns before riding a sensitive trend)."""
    recent = list(
        Mention.objects.for_org(organisation)
        .filter(published_at__gte=since)
        .order_by("-published_at")
        .annotate(head=text_head())
        .values_list("head", "sentiment")[:5000]
    )
    if not recent:
        return []
    baseline = list(
        Mention.objects.for_org(organisation)
        .filter(published_at__lt=since, published_at__gte=since - timedelta(weeks=4))
        .order_by("-published_at")
        .annotate(head=text_head())
        .values_list("head", flat=True)[:5000]
    )
    terms = detection.emerging_terms([text for text, _s in recent], baseline, top=top)
    found = []
    recent_terms = [(detection.terms_of(text), text, sentiment) for text, sentiment in recent]
    for term in terms:
        containing = [(text, sentiment) for words, text, sentiment in recent_terms if term.term in words]
        negative = sum(sentiment == Sentiment.NEGATIVE for _t, sentiment in containing)
        found.append(
            TrendingTerm(
                term=term.term,
                score=term.score,
                mentions=term.recent,
                baseline_mentions=term.baseline,
                negative_share=round(negative / len(containing), 3) if containing else 0.0,
                examples=[text[:280] for text, _s in containing[:3]],
            )
        )
    return found


def recent_competitor_texts(organisation: Organisation, *, since: datetime, limit: int = 500) -> list[str]:
    """Texts of the mentions matched by competitor queries since `since`, newest first."""
    return list(
        Mention.objects.for_org(organisation)
        .filter(
            published_at__gte=since,
            matches__query__kind=QueryKind.COMPETITOR,
            matches__query__organisation=organisation,
        )
        .distinct()
        .order_by("-published_at")
        .annotate(head=text_head())
        .values_list("head", flat=True)[:limit]
    )
