"""Crisis or launch: what listening knows beyond volume (negative share, influential authors,
emerging terms carried by negative mentions)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from palabre.listening.detection.baseline import DEFAULT_CONFIG, DetectorConfig


@dataclass(frozen=True)
class SpikeNature:
    """Whether a volume spike reads as a crisis (bad buzz) or a launch (a rise people welcome)."""

    nature: str  # "crisis", "launch" or "unclear"
    negative_share: float  # of the spike's mentions
    usual_negative_share: float  # of the weeks before, shrunk towards the prior
    negative_z: float  # binomial z of the spike's negatives against the usual share
    influential: int  # the spike's most-followed authors counted
    influential_negative: int  # of them, those whose mention is negative
    negative_terms: tuple[str, ...]  # emerging terms carried mostly by negative mentions


def spike_nature(
    *,
    mentions: int,
    negatives: int,
    baseline_mentions: int,
    baseline_negatives: int,
    influential: int = 0,
    influential_negative: int = 0,
    negative_terms: Sequence[str] = (),
    config: DetectorConfig = DEFAULT_CONFIG,
) -> SpikeNature:
    """Tell a crisis from a launch with what listening knows beyond volume: a crisis when the
    spike's negative share is clearly above the query's usual (binomial z >= 1.96 and at least
    `negative_lift` / 2 more), or when most of its influential authors are negative; a launch when
    its negative share is not above the usual, no influential author leads a negative wave and no
    emerging term is carried by negative mentions; unclear otherwise (too few mentions: fewer than
    `negative_min`)."""
    p0 = (baseline_negatives + config.prior_negative * config.prior_weight) / (
        baseline_mentions + config.prior_weight
    )
    share = negatives / mentions if mentions else 0.0
    z = (negatives - mentions * p0) / math.sqrt(mentions * p0 * (1 - p0)) if mentions else 0.0
    negative_authors = influential >= 2 and 2 * influential_negative > influential
    if (mentions >= config.negative_min and z >= 1.96 and share - p0 >= config.negative_lift / 2) or (
        negative_authors
    ):
        nature = "crisis"
    elif mentions >= config.negative_min and z < 1.0 and not negative_terms and influential_negative == 0:
        nature = "launch"
    else:
        nature = "unclear"
    return SpikeNature(
        nature,
        round(share, 3),
        round(p0, 3),
        round(z, 2),
        influential,
        influential_negative,
        tuple(negative_terms),
    )
