"""Contest hunters flagged with their reasons; regular customers never."""

from __future__ import annotations

import pytest
from django.utils import translation

from palabre.programmes.hunters import EntrantFacts, handle_stem, is_generic, reason_words, score_entrants

REGULARS = [
    EntrantFacts(
        "site:camille", "camille", "Je participe ! On a le canapé Oslo depuis deux ans.", 3, 1, None, 180
    ),
    EntrantFacts("site:marc.durand", "marc.durand", "Je participe 🙂", 2, 1, 2400, 250),
    EntrantFacts("site:sophie_75011", "sophie_75011", "Trop beau, je tente ma chance", 5, 2, None, 90),
    # A fan who enters every contest, and writes to the brand even more often.
    EntrantFacts("site:lea", "lea", "Moi !", 6, 4, 900, 40),
]
HUNTERS = [
    EntrantFacts("site:julie.concours1", "julie.concours1", "Je participe @ami1 @ami2", 0, 1, None, 0),
    EntrantFacts("site:julie.concours2", "julie.concours2", "je participe @ami3", 0, 1, None, 3),
    EntrantFacts("site:julie.concours3", "julie.concours3", "Je participe !!", 0, 1, None, 1),
    EntrantFacts("site:gagnant_pro", "gagnant_pro", "Moi 🙏🍀", 0, 5, None, None),
    EntrantFacts("site:nouveau", "nouveau", "Count me in!", 0, 1, 3, 2),
]


def test_hunters_are_flagged_and_regular_customers_are_not():
    scores = {s.reference: s for s in score_entrants(REGULARS + HUNTERS)}
    assert {r for r, s in scores.items() if s.flagged} == {h.reference for h in HUNTERS}


def _words(score) -> dict[str, str]:
    return {signal: reason_words(signal, figures) for signal, figures in score.reasons}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_flag_comes_with_its_reasons_in_the_readers_words(language):
    scores = {s.reference: s for s in score_entrants(REGULARS + HUNTERS)}
    with translation.override(language):
        julie = _words(scores["site:julie.concours2"])
        serial = _words(scores["site:gagnant_pro"])
        nouveau = _words(scores["site:nouveau"])
    assert set(julie) == {"pattern", "no_interaction", "empty_account", "generic"}
    if language == "fr":
        assert (
            julie["pattern"]
            == "3 comptes de ce concours ont le même modèle de nom que celui-ci (julie.concours…)"
        )
        assert nouveau["new_account"] == "Compte créé il y a 3 jours"
        return
    julie = dict(julie)
    assert set(julie) == {"pattern", "no_interaction", "empty_account", "generic"}
    assert (
        julie["pattern"] == "3 accounts in this contest share this account's name pattern (julie.concours…)"
    )
    assert serial["serial"] == "Entered 5 of the brand's contests this year, more than its other messages"
    assert nouveau["new_account"] == "Account created 3 days ago"
    # A regular's generic entry is said, and weighs too little to flag.
    marc = scores["site:marc.durand"]
    assert [signal for signal, _figures in marc.reasons] == ["generic"] and not marc.flagged


def test_two_lookalike_handles_are_not_yet_a_pattern():
    pair = [h for h in HUNTERS if h.handle != "julie.concours3"]
    scores = {s.reference: s for s in score_entrants(pair)}
    assert "pattern" not in dict(scores["site:julie.concours1"].reasons)


def test_handle_stems_and_generic_entries():
    assert handle_stem("@Julie.Concours12") == "julie.concours"
    assert handle_stem("sophie_75011") == "sophie"
    assert handle_stem("camille") is None
    assert handle_stem("a12") is None  # too short a stem to mean a pattern
    assert is_generic("Je participe @ami1 #concours 🍀")
    assert not is_generic("Je participe, et j'adore la couleur vert sapin")


def test_on_a_realistic_contest_every_hunter_is_flagged_and_no_regular_customer():
    import json
    from pathlib import Path

    data = json.loads(
        (Path(__file__).parent / "fixtures" / "contest_entrants.json").read_text(encoding="utf-8")
    )
    entrants = [
        EntrantFacts(
            reference=f"instagram:{e['handle']}",
            handle=e["handle"],
            entry_text=e["text"],
            other_messages=e["other_messages"],
            contests_entered_this_year=e["contests_entered_this_year"],
            account_age_days=e["account_age_days"],
            followers=e["followers"],
        )
        for e in data["entrants"]
    ]
    kinds = {f"instagram:{e['handle']}": e["kind"] for e in data["entrants"]}
    scores = score_entrants(entrants)
    flagged = {s.reference for s in scores if s.flagged}
    assert flagged == {ref for ref, kind in kinds.items() if kind == "hunter"}
    assert all(s.reasons for s in scores if s.flagged)  # a flag always comes with its reasons
