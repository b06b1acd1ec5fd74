"""How a decision reads: highlighted spans (escaped, merged), reasons in the reader's language."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from palabre.moderation.models import ItemModeration
from palabre.moderation.templatetags.moderation_tags import highlight, merged_spans, reason_text, score_bars
from palabre.orgs.permissions import Role


def test_spans_are_wrapped_in_marks_titled_with_their_label():
    with translation.override("en"):
        html = highlight("Quelle arnaque, vraiment", [{"start": 7, "end": 14, "label": "banned_word"}])
    assert html == 'Quelle <mark class="label-banned_word" title="Banned word">arnaque</mark>, vraiment'


def test_everything_is_escaped_the_text_the_marks_and_the_labels():
    text = '<b>nul</b> <script>alert("x")</script> & co'
    spans = [{"start": 3, "end": 6, "label": 'x"><img src=x onerror=alert(1)>'}]
    html = str(highlight(text, spans))
    assert "<script>" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;b&gt;" in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert '<mark class="label-ximgsrcxonerroralert1" title="x&quot;&gt;&lt;img' in html


def test_overlapping_spans_are_merged_and_bad_offsets_ignored():
    text = "va te faire voir, espèce de nul"
    spans = [
        {"start": 0, "end": 11, "label": "threat"},
        {"start": 6, "end": 16, "label": "insult"},
        {"start": 28, "end": 31, "label": "insult"},
        {"start": 28, "end": 31, "label": "insult"},
        {"start": 40, "end": 50, "label": "spam"},  # past the end
        {"start": 5, "end": 5, "label": "spam"},  # empty
        {"start": "x", "end": 3, "label": "spam"},  # not a number
    ]
    assert merged_spans(text, spans) == [(0, 16, ["threat", "insult"]), (28, 31, ["insult"])]
    with translation.override("fr"):
        html = str(highlight(text, spans))
    assert html.count("<mark") == 2
    assert '<mark class="label-threat label-insult" title="Menace, Insulte">va te faire voir</mark>' in html
    assert html.endswith('<mark class="label-insult" title="Insulte">nul</mark>')


def test_spans_count_characters_of_the_original_text_accents_and_emoji_included():
    text = "Très 👎 arnaque"
    html = str(highlight(text, [{"start": 7, "end": 14, "label": "banned_word"}]))
    assert html.endswith(">arnaque</mark>")


def test_reasons_read_in_the_readers_language_with_the_stored_message_as_fallback():
    reason = {
        "code": "banned_word",
        "action": "reject",
        "message": "Contains the banned word “x”.",
        "params": {"word": "x"},
    }
    score = {
        "code": "score_insult",
        "action": "hold",
        "message": "Possibly insult (0.71).",
        "params": {"label": "insult", "score": 0.7134},
    }
    new_author = {
        "code": "first_time_author",
        "action": "hold",
        "message": "…",
        "params": {"approved": 0, "needed": 2},
    }
    unknown = {"code": "from_the_future", "action": "hold", "message": "A reason this version does not know."}
    broken = {"code": "banned_word", "action": "reject", "message": "Stored message.", "params": {}}
    with translation.override("fr"):
        assert reason_text(reason) == "Contient le mot interdit «\u202fx\u202f»."
        assert reason_text(score) == "Insulte\u202f: possible (score 0,71)."
        assert reason_text(new_author) == "Nouvel auteur\u202f: retenu jusqu’à 2 commentaires approuvés."
        assert reason_text(unknown) == "A reason this version does not know."
        assert reason_text(broken) == "Stored message."
    with translation.override("en"):
        assert reason_text(score) == "Insult: possible (score 0.71)."
        assert reason_text({**score, "action": "reject"}) == "Insult: very likely (score 0.71)."


def test_score_bars_follow_the_thresholds():
    bars = score_bars({"spam": 0.97, "toxicity": 0.7, "insult": 0.1})
    assert [(b["label"], b["level"], b["percent"]) for b in bars] == [
        ("spam", "reject", 97),
        ("toxicity", "hold", 70),
        ("insult", "", 10),
    ]


def test_html_in_a_comment_is_shown_as_text_in_the_queue(brand, client_for, ingest_moderated):
    item = ingest_moderated(
        brand.channel, "x1", '<img src=pic.png onerror="alert(1)"> remboursement <script>alert(2)</script>'
    )
    assert ItemModeration.objects.get(item=item).status == "held"
    content = client_for(brand.users[Role.MODERATOR]).get(reverse("moderation:queue")).content.decode()
    assert "<script>alert(2)" not in content and "<img src=pic" not in content
    assert (
        '&lt;img src=pic.png onerror=&quot;alert(1)&quot;&gt; <mark class="label-suspect_word" title="Mot suspect">'
        "remboursement</mark> &lt;script&gt;alert(2)&lt;/script&gt;"
    ) in content
