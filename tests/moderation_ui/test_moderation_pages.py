"""The moderation pages: who may open them, what the queue shows, and that every button goes through
the moderation services (status changed, decision logged with who and when)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palabre.moderation import services as moderation
from palabre.moderation.models import ModerationDecision, ModerationPolicy, ModerationRule, ModerationStatus
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm, Role, role_has
from palabre.orgs.services import Actor, set_language

SUSPECT = "remboursement"  # the suspect word of the conftest's rules

HX = {"HTTP_HX_REQUEST": "true"}

# (url name, permission, arguments)
PAGES = [
    ("moderation:queue", Perm.MODERATION_ACT, lambda b: []),
    ("moderation:entry", Perm.MODERATION_ACT, lambda b: [b.items["held"].pk]),
    ("moderation:rules", Perm.MODERATION_RULES, lambda b: []),
    ("moderation:policy", Perm.MODERATION_RULES, lambda b: []),
]


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize(("name", "perm", "args"), PAGES, ids=[p[0] for p in PAGES])
def test_each_page_answers_the_roles_of_the_matrix(brand, client_for, role, name, perm, args):
    response = client_for(brand.users[role]).get(reverse(name, args=args(brand)))
    assert response.status_code == (200 if role_has(role, perm) else 403), (role, name)


def test_the_roles_named_in_the_brief(brand, client_for):
    # Moderators, community managers and owners work the queue; contributors and analysts may not.
    queue, rules = reverse("moderation:queue"), reverse("moderation:rules")
    for role in (Role.MODERATOR, Role.COMMUNITY_MANAGER, Role.OWNER):
        assert client_for(brand.users[role]).get(queue).status_code == 200
    for role in (Role.CONTRIBUTOR, Role.ANALYST):
        assert client_for(brand.users[role]).get(queue).status_code == 403
    assert client_for(brand.users[Role.MODERATOR]).get(rules).status_code == 403
    assert client_for(brand.users[Role.COMMUNITY_MANAGER]).get(rules).status_code == 200


def test_signed_out_people_are_sent_to_the_login_page(brand, client):
    response = client.get(reverse("moderation:queue"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_organisations_items_and_rules_answer_404(brand, client_for):
    client = client_for(brand.users[Role.OWNER])
    other_rule = moderation.create_rule(
        actor=Actor.palabre(brand.other), kind="suspect_word", pattern="ailleurs", enabled=True
    )
    foreign = brand.other_item.pk
    before = brand.status(brand.other_item)
    assert client.get(reverse("moderation:entry", args=[foreign])).status_code == 404
    assert client.post(reverse("moderation:review", args=[foreign]), {"action": "approve"}).status_code == 404
    bulk = {"action": "approve", "items": [brand.items["held"].pk, foreign]}
    assert client.post(reverse("moderation:bulk"), bulk).status_code == 404
    assert client.post(reverse("moderation:rule_toggle", args=[other_rule.pk])).status_code == 404
    assert client.post(reverse("moderation:rule_delete", args=[other_rule.pk])).status_code == 404
    # Nothing moved: neither the foreign item, nor ours named next to it in the bulk request.
    assert brand.status(brand.other_item) == before
    assert brand.status(brand.items["held"]) == ModerationStatus.HELD
    assert ModerationRule.objects.filter(pk=other_rule.pk, enabled=True).exists()


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_shows_tabs_with_counts_reasons_scores_and_the_author(brand, client_for):
    content = client_for(brand.users[Role.MODERATOR]).get(reverse("moderation:queue")).content.decode()
    assert 'id="queue-tabs"' in content
    assert '?status=held" aria-current="page">' in content
    assert 'Retenu <span class="count">2</span>' in content
    assert 'Rejeté <span class="count">1</span>' in content
    # Held items, and only them.
    assert f'id="entry-{brand.items["held"].pk}"' in content
    assert f'id="entry-{brand.items["held2"].pk}"' in content
    assert f'id="entry-{brand.items["rejected"].pk}"' not in content
    # The span, the reason in the reader's language (French by default), the scores, the author.
    assert f'<mark class="label-suspect_word" title="Mot suspect">{SUSPECT}</mark>' in content
    assert f"Contient le mot suspect «\u202f{SUSPECT}\u202f»." in content
    assert 'class="score-name">Toxicité<' in content
    assert "@camille" in content and "Nouvel auteur" in content
    assert 'data-shortcut="a"' in content and "palabre/moderation.js" in content


def test_the_queue_speaks_english_to_a_person_who_chose_english(brand, client_for):
    set_language(user=brand.users[Role.MODERATOR], language="en")
    content = client_for(brand.users[Role.MODERATOR]).get(reverse("moderation:queue")).content.decode()
    assert f"Contains the suspect word “{SUSPECT}”." in content
    assert 'Held <span class="count">2</span>' in content
    assert "Approve selected" in content


def test_the_author_history_counts_items_and_past_decisions(brand, client_for):
    actor = brand.actor(Role.MODERATOR)
    moderation.review_item(actor=actor, item_id=brand.items["held2"].pk, action="reject")
    content = client_for(brand.users[Role.MODERATOR]).get(reverse("moderation:queue")).content.decode()
    entry = content[content.index(f'id="entry-{brand.items["held"].pk}"') :]
    entry = entry[: entry.index("</article>")]
    assert "<dt>Éléments</dt><dd>2</dd>" in entry
    assert "<dt>Rejets</dt><dd>1</dd>" in entry
    assert "<dt>Karma</dt><dd>-1</dd>" in entry
    assert "Surveillé" in entry
    assert "?q=%40camille" in entry


def test_the_queue_query_count_does_not_grow_with_entries(
    brand, client_for, ingest_moderated, django_assert_max_num_queries
):
    client = client_for(brand.users[Role.MODERATOR])
    url = reverse("moderation:queue")
    client.get(url)  # sessions, policy row: the first visit may create things
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(12):
        ingest_moderated(brand.channel, f"more-{n}", f"Encore un {SUSPECT} {n}", author=f"@person{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        content = client.get(url).content.decode()
    assert content.count('class="mod-entry"') == 14


# --- decisions --------------------------------------------------------------------------------


def test_approving_with_htmx_swaps_the_entry_and_updates_the_counts(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    item = brand.items["held"]
    response = client.post(
        reverse("moderation:review", args=[item.pk]), {"action": "approve", "tab": "held"}, **HX
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<article class="mod-entry decided" id="entry-{item.pk}"' in content
    assert "Approuvé." in content
    assert 'id="queue-tabs" aria-label="Statuts" hx-swap-oob="true"' in content
    assert 'Retenu <span class="count">1</span>' in content
    assert 'id="moderation-badge"' in content
    assert brand.status(item) == ModerationStatus.APPROVED
    decision = ModerationDecision.objects.filter(item=item).first()
    assert decision.source == "moderator" and decision.decided_by == brand.users[Role.MODERATOR]


def test_without_javascript_a_decision_redirects_back_with_a_message(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    item = brand.items["held"]
    response = client.post(
        reverse("moderation:review", args=[item.pk]), {"action": "spam", "next": "/moderation/?status=held"}
    )
    assert response.status_code == 302 and response["Location"] == "/moderation/?status=held"
    assert brand.status(item) == ModerationStatus.REJECTED
    page = client.get(response["Location"]).content.decode()
    assert "Marqué comme spam." in page
    assert f'id="entry-{item.pk}"' not in page


def test_a_foreign_next_address_is_not_followed(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    response = client.post(
        reverse("moderation:review", args=[brand.items["held"].pk]),
        {"action": "approve", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("moderation:queue")


def test_an_unknown_action_changes_nothing(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    item = brand.items["held"]
    response = client.post(reverse("moderation:review", args=[item.pk]), {"action": "delete"}, **HX)
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert brand.status(item) == ModerationStatus.HELD


def test_a_rejected_item_is_restored_in_one_click_from_its_page(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    item = brand.items["rejected"]
    page = client.get(reverse("moderation:entry", args=[item.pk])).content.decode()
    assert 'name="action" value="restore"' in page
    assert "Palabre (automatique)" in page and "Rejeté" in page
    response = client.post(
        reverse("moderation:review", args=[item.pk]),
        {"action": "restore", "note": "faux positif", "next": reverse("moderation:entry", args=[item.pk])},
    )
    assert response.status_code == 302
    assert brand.status(item) == ModerationStatus.APPROVED
    page = client.get(response["Location"]).content.decode()
    log = page[page.index("decision-log") :]
    assert "Restauré" in log and "moderator" in log and "faux positif" in log
    assert log.index("moderator") < log.index("Palabre (automatique)"), "newest first"


def test_the_log_shows_who_when_the_model_version_and_the_reasons(brand, client_for):
    item = brand.items["held"]
    moderation.review_item(actor=brand.actor(Role.COMMUNITY_MANAGER), item_id=item.pk, action="reject")
    page = client_for(brand.users[Role.MODERATOR]).get(reverse("moderation:entry", args=[item.pk]))
    content = page.content.decode()
    automatic = ModerationDecision.objects.filter(item=item, source="automatic").get()
    assert automatic.model_version and f"<code>{automatic.model_version}</code>" in content
    assert "community-manager" in content
    assert content.count(f"Contient le mot suspect «\u202f{SUSPECT}\u202f».") >= 2


def test_bulk_actions_apply_to_every_selected_item(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    held, held2 = brand.items["held"], brand.items["held2"]
    response = client.post(
        reverse("moderation:bulk"), {"action": "reject", "items": [held.pk, held2.pk], "next": "/moderation/"}
    )
    assert response.status_code == 302
    assert brand.status(held) == brand.status(held2) == ModerationStatus.REJECTED
    assert "2 éléments rejetés." in client.get("/moderation/").content.decode()
    assert ModerationDecision.objects.filter(item__in=[held, held2], source="moderator").count() == 2


def test_bulk_without_a_selection_or_with_a_bad_action_changes_nothing(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    response = client.post(reverse("moderation:bulk"), {"action": "approve"}, follow=True)
    assert "Sélectionnez d’abord au moins un élément." in response.content.decode()
    client.post(reverse("moderation:bulk"), {"action": "restore", "items": [brand.items["held"].pk]})
    assert brand.status(brand.items["held"]) == ModerationStatus.HELD


def test_the_menu_shows_moderation_with_the_number_waiting(brand, client_for):
    content = client_for(brand.users[Role.MODERATOR]).get(reverse("home")).content.decode()
    assert 'href="/moderation/"' in content
    assert 'id="moderation-badge" class="nav-count" title="Retenus ou signalés">2</span>' in content
    content = client_for(brand.users[Role.CONTRIBUTOR]).get(reverse("home")).content.decode()
    assert 'href="/moderation/"' not in content


def test_the_conversation_page_shows_where_the_item_stands(brand, client_for):
    item = brand.items["rejected"]
    content = client_for(brand.users[Role.MODERATOR]).get(reverse("conversations:item", args=[item.pk]))
    content = content.content.decode()
    assert 'id="moderation-panel"' in content and "Rejeté" in content
    assert reverse("moderation:entry", args=[item.pk]) in content
    # An analyst reads conversations but does not moderate: the status, no link.
    content = client_for(brand.users[Role.ANALYST]).get(reverse("conversations:item", args=[item.pk]))
    content = content.content.decode()
    assert 'id="moderation-panel"' in content
    assert reverse("moderation:entry", args=[item.pk]) not in content


# --- rules --------------------------------------------------------------------------------------


def test_rules_are_listed_by_kind(brand, client_for):
    content = (
        client_for(brand.users[Role.COMMUNITY_MANAGER]).get(reverse("moderation:rules")).content.decode()
    )
    assert "Mot suspect (retenir)" in content and "Mot interdit (rejeter)" in content
    assert f"<code>{SUSPECT}</code>" in content and "à vérifier" in content


def test_a_rule_is_added_in_simulation_and_applies_once_enabled(brand, client_for, ingest_moderated):
    client = client_for(brand.users[Role.COMMUNITY_MANAGER])
    response = client.post(
        reverse("moderation:rules"),
        {"kind": "regex", "pattern": r"\bpromo\d+\b", "action": "reject", "note": ""},
    )
    assert response.status_code == 302
    rule = ModerationRule.objects.get(organisation=brand.organisation, kind="regex")
    assert rule.created_by == brand.users[Role.COMMUNITY_MANAGER]
    assert rule.state == "simulating" and not rule.enabled
    # The page it lands on shows what the rule would have done, and the button that enables it.
    page = client.get(response["Location"]).content.decode()
    assert 'id="stored-rule-simulation"' in page
    assert reverse("moderation:rule_toggle", args=[rule.pk]) in page
    item = ingest_moderated(brand.channel, "n1", "Code promo42 chez nous")
    assert brand.status(item) != ModerationStatus.REJECTED, "a simulated rule decides nothing"
    assert client.post(reverse("moderation:rule_toggle", args=[rule.pk])).status_code == 302
    rule.refresh_from_db()
    assert rule.state == "enabled" and rule.enabled_at is not None
    item = ingest_moderated(brand.channel, "n2", "Code promo43 chez nous")
    assert brand.status(item) == ModerationStatus.REJECTED
    assert AuditEvent.objects.filter(
        organisation=brand.organisation, action="moderation.rule_enabled", target_id=str(rule.pk)
    ).exists()


def test_an_invalid_regex_keeps_the_input_and_shows_the_error_next_to_the_pattern(brand, client_for):
    client = client_for(brand.users[Role.COMMUNITY_MANAGER])
    data = {"kind": "regex", "pattern": "(promo", "action": "hold", "note": "les codes promo"}
    for url in (reverse("moderation:rules"), reverse("moderation:rule_simulate")):
        response = client.post(url, data)
        assert response.status_code == 200
        content = response.content.decode()
        assert 'value="(promo"' in content and 'value="les codes promo"' in content
        field = content[content.index('name="pattern"') :]
        assert field.index("Expression régulière invalide") < field.index('name="action"')
        assert '<option value="regex" selected>' in content
    assert not ModerationRule.objects.filter(kind="regex").exists()


def test_the_simulation_shows_what_a_rule_would_change_item_by_item(brand, client_for):
    client = client_for(brand.users[Role.COMMUNITY_MANAGER])
    data = {"kind": "suspect_word", "pattern": "canapé", "action": "hold", "note": ""}
    response = client.post(reverse("moderation:rule_simulate"), data, **HX)
    content = response.content.decode()
    assert content.startswith('<div id="rule-editor">')
    assert "<html" not in content
    published = brand.items["published"]
    assert reverse("moderation:entry", args=[published.pk]) in content
    row = content[content.index(reverse("moderation:entry", args=[published.pk])) :]
    row = row[: row.index("</tr>")]
    assert '<span class="decision publish">Publié</span>' in row
    assert '<span class="decision hold">Retenu pour vérification</span>' in row
    assert 'value="canapé"' in content, "the form keeps the rule being written"
    assert not ModerationRule.objects.filter(pattern="canapé").exists(), "a simulation saves nothing"
    # Without JavaScript, the whole page comes back with the same answer.
    page = client.post(reverse("moderation:rule_simulate"), data).content.decode()
    assert "<html" in page and '<span class="decision hold">Retenu pour vérification</span>' in page


def test_a_rule_is_disabled_enabled_and_deleted(brand, client_for):
    client = client_for(brand.users[Role.COMMUNITY_MANAGER])
    rule = ModerationRule.objects.get(organisation=brand.organisation, pattern=SUSPECT)
    response = client.post(reverse("moderation:rule_toggle", args=[rule.pk]), **HX)
    assert response.content.decode().startswith(f'<tr id="rule-{rule.pk}" class="disabled">')
    rule.refresh_from_db()
    assert not rule.enabled
    client.post(reverse("moderation:rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.enabled
    response = client.post(reverse("moderation:rule_delete", args=[rule.pk]))
    assert response.status_code == 302
    assert not ModerationRule.objects.filter(pk=rule.pk).exists()


def test_a_moderator_cannot_change_rules(brand, client_for):
    client = client_for(brand.users[Role.MODERATOR])
    rule = ModerationRule.objects.get(organisation=brand.organisation, pattern=SUSPECT)
    assert client.post(reverse("moderation:rule_toggle", args=[rule.pk])).status_code == 403
    assert client.post(reverse("moderation:rule_delete", args=[rule.pk])).status_code == 403
    data = {"kind": "suspect_word", "pattern": "x", "action": "hold"}
    assert client.post(reverse("moderation:rule_simulate"), data).status_code == 403


# --- policy -------------------------------------------------------------------------------------


def test_the_policy_page_saves_thresholds_and_limits(brand, client_for):
    client = client_for(brand.users[Role.OWNER])
    data = {"max_links": 1, "first_time_hold_until": 2, "rate_limit_per_hour": 5}
    for label in ("spam", "toxicity", "insult", "identity_attack", "threat", "sexual"):
        data[f"hold_{label}"] = 0.5
        data[f"reject_{label}"] = 0.9
    response = client.post(reverse("moderation:policy"), data)
    assert response.status_code == 302
    policy = ModerationPolicy.objects.get(organisation=brand.organisation)
    assert policy.max_links == 1 and policy.first_time_hold_until == 2 and policy.rate_limit_per_hour == 5
    assert policy.hold_thresholds["spam"] == 0.5 and policy.reject_thresholds["threat"] == 0.9
    assert "sexual" not in policy.reject_thresholds, "a value equal to the default follows the default"


def test_the_policy_page_refuses_a_hold_above_reject_and_keeps_the_input(brand, client_for):
    client = client_for(brand.users[Role.OWNER])
    data = {"max_links": 2, "first_time_hold_until": 0, "rate_limit_per_hour": 0}
    for label in ("spam", "toxicity", "insult", "identity_attack", "threat", "sexual"):
        data[f"hold_{label}"] = 0.6
        data[f"reject_{label}"] = 0.95
    data["hold_spam"], data["reject_spam"] = 0.97, 0.9
    content = client.post(reverse("moderation:policy"), data).content.decode()
    assert "Retenir devrait commencer sous le seuil de rejet." in content
    assert 'value="0.97"' in content
    assert ModerationPolicy.objects.get(organisation=brand.organisation).hold_thresholds == {}


def test_learned_offsets_show_read_only(brand, client_for):
    ModerationPolicy.objects.filter(organisation=brand.organisation).update(learned_offsets={"spam": 0.03})
    content = client_for(brand.users[Role.OWNER]).get(reverse("moderation:policy")).content.decode()
    assert "Appris de vos corrections" in content
    assert '<td class="learned">+0,03</td>' in content
    assert "0,63" in content  # the hold threshold in effect: 0.6 + 0.03
    assert 'name="learned' not in content


def test_the_home_page_counts_what_waits_for_moderation(brand, client_for):
    content = client_for(brand.users[Role.MODERATOR]).get(reverse("home")).content.decode()
    tiles = content[content.index('class="tiles"') :]
    assert "En attente de modération" in tiles
    content = client_for(brand.users[Role.ANALYST]).get(reverse("home")).content.decode()
    assert "En attente de modération" not in content


def test_the_policy_page_says_when_an_identity_attack_alone_holds(brand, client_for):
    content = client_for(brand.users[Role.OWNER]).get(reverse("moderation:policy")).content.decode()
    assert "quand un message ne nomme aucun groupe" in content
    assert "retient qu’à partir de 0,70." in content
