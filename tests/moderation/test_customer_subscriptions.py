"""A customer's own subscription and the private message they sent the brand are no spam (session
22): the spam head learnt "subscribe" from video comments that ask for subscribers, and "check my
..." from "check out my channel", so a newspaper's reader who could not log in ("new subscriber,
but my password is not accepted", complaints_en) was rejected at 0.95. Those words are left out
when the spam score is read in context (lexicons/context_en.tsv, `reference`); the spam's own forms
("subscribe to my channel", "your subscription has been activated", "sub4sub") keep it. Real
engine, shipped models."""

from __future__ import annotations

from palabre.moderation.engine import REJECT

from .conftest import assert_published, decide

# Written for this test, before the context lines; six of them were held as spam before.
CUSTOMERS = [
    "@Netflix my subscription renewed twice this month, can you refund one?",
    "I've been a loyal subscriber for 12 years and you double my price?",
    "@Spotify cancelled my subscription last week but you still charged me",
    "@guardian as a digital subscriber I can't log in to the app",
    "Just subscribed to the annual plan and the discount wasn't applied",
    "@SkyHelp sent you a DM about my broadband, please check it",
    "@AmazonHelp please check my DM, order still missing",
    "Long-time subscriber here, the crossword page won't load",
    "My gym subscription was taken twice from my account",
    "@Xbox my Game Pass subscription expired even though auto-renew is on",
    "The student subscription price went up without notice",
    "Hey @Hulu, I tried to subscribe but the payment page keeps failing",
    "@nytimes I'm a print subscriber and my paper hasn't arrived in 4 days",
    "@DisneyPlus how do I move my subscription to a new email address?",
    "@virginmedia check your DMs, still no internet since Monday",
    # Session 23: subscribed to the brand's own channel, and what goes wrong with it.
    "I subscribed to your channel but I stopped getting notifications",
    "I've been subscribed to your channel for years and the last video won't play",
    "I subscribed to your page but your posts never show up in my feed",
]

SPAM = [
    "Please subscribe to my channel, I post new covers every week!",
    "sub4sub anyone? I subscribe back right away",
    "Help me reach 1000 subscribers, check out my channel",
    "Your subscription to MobileFun has been activated, reply STOP to end, £3/week",
    "FREE subscription to our VIP tips, text WIN to 80082",
    "Check out my new video and subscribe!!",
    "I will subscribe to anyone who subscribes to me",
    "I subscribed it",
    "I subscribed to your channel, please subscribe back",
    "I subscribed to your channel and you should subscribe to mine",
]


def test_a_customers_subscription_and_direct_message_are_no_spam():
    assert_published(CUSTOMERS)


def test_spam_that_asks_for_subscribers_is_still_rejected():
    for text, decision in zip(SPAM, decide(SPAM), strict=True):
        assert decision.action == REJECT, (text, decision.scores)
