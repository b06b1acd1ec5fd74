"""Threats in English beyond "I'm going to kill you" (issue 13): someone who should do it, a wish that
people get shot, a plan being thought of, a bullet put in someone, people made to suffer. Six of
these twelve, written for the test, were published before. English says "kill a bug", "shoot a
video", "hang the pictures": those stay published. Real engine, shipped models."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import PUBLISH, ModerationContext, moderate_many

THREATS = [
    "I'm going to murder the manager of your store.",
    "Someone should shoot your CEO.",
    "I will find your delivery driver and break his neck.",
    "People like you deserve to die.",
    "Let's kill them all, these traitors at head office.",
    "I hope all your employees get shot.",
    "I'm seriously thinking about strangling that cashier.",
    "I want to end the life of every one of your staff.",
    "I'll put a bullet in your support agent.",
    "We should hang the whole board of directors.",
    "I'm going to make your staff suffer.",
    "Your manager should be executed.",
]

ORDINARY = [
    "This sofa is killing it, love the colour.",
    "I'm going to kill some time in your store on Saturday.",
    "We should hang the new curtains before the party.",
    "Your prices are murder on my wallet.",
    "I'm dying to see the new collection!",
    "Let's kill the lights and enjoy the new lamp.",
    "The shoot for the catalogue looks amazing.",
    "My back is killing me after assembling the wardrobe.",
    "Someone should kill this bug in your app, checkout crashes every time.",
    "You should shoot a video showing how to assemble the bed.",
    "We need to kill the old promo codes before Black Friday.",
    "I hope all my photos get shot in natural light with your lamp.",
    "Hang the pictures in the hallway, it looks great.",
    "This workout is going to make you suffer but it's worth it.",
    "You could run over to the store before it closes.",
]


def _decide(texts):
    return moderate_many(texts, [ModerationContext(lang="en") for _ in texts])


def test_threats_are_held_as_threats():
    missed = [
        (text, decision.action)
        for text, decision in zip(THREATS, _decide(THREATS), strict=True)
        if decision.action == PUBLISH or decision.scores["threat"] < 0.5
    ]
    assert not missed


@pytest.mark.parametrize("text", ORDINARY)
def test_the_same_verbs_said_of_things_are_published(text):
    [decision] = _decide([text])
    assert decision.action == PUBLISH, decision.as_dict()
