"""A customer naming the brand's own service in a complaint is no spam (session 24): "Your customer
service is a joke" was held at 0.62 spam, the words of SMS spam's "call our customer service"; the
prize spam that says them keeps its score. Real engine, shipped models."""

from __future__ import annotations

from palabre.moderation.engine import REJECT

from .conftest import assert_published, decide

COMPLAINTS = [
    "Your customer service is a joke",
    "Your customer service is terrible",
    "Your customer service sucks",
    "This customer service is a joke, I waited 3 weeks",
]
SPAM = [
    "You have WON a guaranteed £1000 cash prize. To claim call our customer service representative on 08714712379",
    "URGENT! Your account will be closed, call the customer service on 09061790121 now to claim your reward",
    "Winner! Contact your customer service team on 0800 169 6031 to claim £500",
]


def test_complaints_about_the_customer_service_are_published():
    assert_published(COMPLAINTS, "en")


def test_prize_spam_that_names_a_customer_service_is_still_rejected():
    for text, decision in zip(SPAM, decide(SPAM, "en"), strict=True):
        assert decision.action == REJECT, (text, decision.scores)
