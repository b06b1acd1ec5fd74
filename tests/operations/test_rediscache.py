"""`palabre.rediscache.RedisCache`: Django's Redis cache backend (the one settings use with
PALABRE_REDIS_URL), keeping one redis-py client per connection pool instead of building one per call."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from palabre.rediscache import RedisCache


@pytest.fixture
def cache(redis_url):
    prefix = f"test-kept-client-{uuid.uuid4().hex[:8]}"
    cache = RedisCache(redis_url, {"KEY_PREFIX": prefix})
    yield cache
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_it_is_djangos_backend_and_reads_and_writes_as_it_does(cache):
    assert isinstance(cache, DjangoRedisCache)  # what tests/conftest.py empties key by key
    cache.set("site", ("kept",), timeout=5)
    assert cache.get("site") == ("kept",)
    assert cache.add("count", 1) and not cache.add("count", 1)
    assert cache.incr("count") == 2
    cache.delete("site")
    assert cache.get("site", "gone") == "gone"


def test_one_client_is_built_per_pool_not_one_per_call(cache, monkeypatch):
    built = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    for n in range(50):
        cache.set(f"k{n}", n)
        assert cache.get(f"k{n}") == n
    assert len(built) == 1  # Django's own backend built 100
    assert cache._cache.get_client() is cache._cache.get_client(write=True)


def test_threads_share_the_kept_client(cache):
    def work(n: int) -> int:
        cache.set(f"t{n}", n)
        return cache.get(f"t{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(work, range(200))) == list(range(200))
