"""Twitter wraps every link of a tweet, the photo it attaches and the tweet it quotes, in its own
t.co address: where it leads is not in the text, so it is no sign of spam (issue 13; English
complaints to brands were held or rejected as spam for it, 402 of 2,586 in complaints_en). The
words decide, as if it were not there. Real engine, shipped models."""

from __future__ import annotations

from palabre.moderation.engine import PUBLISH, REJECT, ModerationContext, moderate_many

# Written for this test: tweets to a brand with the link Twitter adds to a photo or a quote.
CUSTOMER_TWEETS = [
    "@acme_support I'm going to cancel my subscription if you don't fix this https://t.co/Ab3dE5fGh7",
    "@acme_support tried to buy this today, the shelf said 40% off but the till didn't https://t.co/Zx81kPqW2m",
    "@acme_support thank you very much for the quick fix https://t.co/Lp0aX3vQ9r",
    "@acme_support my order arrived like this, the box crushed https://t.co/R7tLm2qK4s",
    "@MaisonLumiereFR ma lampe est arrivée cassée, regardez https://t.co/Qx2Wc3Ev4R",
]

# Spam tweets: their words sell, the t.co link or not. Without the link's weight the second is held
# rather than rejected (0.75): a person sees it, it is never published.
SPAM_TWEETS = [
    "WIN a FREE iPhone 15!! Claim your prize now, click here https://t.co/Gh7aB3dE5f",
    "Earn $500 DAILY working from home, no experience needed, DM me https://t.co/W2mZx81kPq",
]


def decide(texts):
    return moderate_many(texts, [ModerationContext()] * len(texts))


def test_a_tweet_to_a_brand_with_twitters_link_is_not_taken_for_spam():
    for text, decision in zip(CUSTOMER_TWEETS, decide(CUSTOMER_TWEETS), strict=True):
        codes = {reason.code for reason in decision.reasons}
        assert not codes & {"score_spam", "spam_by_links"}, (text, decision.scores)
        assert decision.action == PUBLISH, (text, decision.as_dict())


def test_spam_tweets_with_twitters_link_are_never_published():
    decisions = decide(SPAM_TWEETS)
    assert decisions[0].action == REJECT
    for text, decision in zip(SPAM_TWEETS, decisions, strict=True):
        assert decision.action != PUBLISH, (text, decision.scores)


def test_another_link_is_still_read():
    """Only Twitter's own wrapper is left out: a link to a shop is the text's own."""
    text = "Great post! Visit my shop for cheap watches https://cheap-watches.example.com/promo"
    [decision] = decide([text])
    assert decision.action != PUBLISH
