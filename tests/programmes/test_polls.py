"""Votes read from French and English replies, one per person."""

from __future__ import annotations

import pytest

from palabre.programmes.polls import PollOption, count_votes, read_vote

OPTIONS = [PollOption("Vert sapin", "🌲"), PollOption("Bleu nuit"), PollOption("Rouge brique")]


@pytest.mark.parametrize(
    ("reply", "option"),
    [
        ("2", 2),
        ("Je vote 3 !", 3),
        ("2️⃣", 2),
        ("Option 1 sans hésiter", 1),
        ("Je vote pour le vert sapin", 1),
        ("BLEU NUIT évidemment", 2),
        ("rouge-brique", 3),
        ("🌲🌲🌲", 1),
        ("la troisième", 3),
        ("the second one please", 2),
        ("je vote un", 1),
        ("deux", 2),
    ],
)
def test_a_reply_that_names_one_option_is_a_vote(reply, option):
    assert read_vote(reply, OPTIONS).option == option


@pytest.mark.parametrize(
    "reply",
    [
        "J'adore votre marque",
        "Un canapé, c'est pour la vie",  # "un" is an article here
        "Ma commande 47002 n'est pas arrivée",  # a number out of the options' range
        "",
    ],
)
def test_a_reply_that_names_no_option_is_not_a_vote(reply):
    ballot = read_vote(reply, OPTIONS)
    assert ballot.option is None and not ballot.unclear


@pytest.mark.parametrize("reply", ["Entre le 1 et le 2 j'hésite", "vert sapin ou bleu nuit ?", "🌲 ou 3"])
def test_a_reply_that_names_two_options_is_unclear_never_guessed(reply):
    ballot = read_vote(reply, OPTIONS)
    assert ballot.option is None and ballot.unclear


def test_one_vote_per_person_the_latest_clear_one_counts():
    replies = [
        ("camille", "1"),
        ("marc", "Bleu nuit"),
        ("camille", "Finalement le 3"),  # changed her mind
        ("lea", "2️⃣"),
        ("lea", "2"),  # the same vote again
        ("paul", "J'hésite entre 1 et 2"),
        ("paul", "J'adore la marque"),
        ("nina", "🌲"),
    ]
    result = count_votes(replies, OPTIONS)
    assert dict(result.counts) == {3: 1, 2: 2, 1: 1}
    assert result.voters == 4
    assert result.changed_minds == 1
    assert result.unclear == 1
    assert result.not_votes == 1
    assert result.share(2) == 0.5
