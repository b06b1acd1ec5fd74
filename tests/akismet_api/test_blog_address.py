"""A `blog` parameter that is no address (a lone "[" reads as a broken IPv6 host) matches no site
instead of failing the request with a 500."""

from palabre.compat.akismet.comments import _address_matches


def test_an_address_urlsplit_refuses_matches_nothing():
    assert not _address_matches("https://blog.maison-dupont.fr/", "[")
    assert _address_matches("https://blog.maison-dupont.fr/", "blog.maison-dupont.fr/2026/")
