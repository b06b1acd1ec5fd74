"""A test platform registered like any other connector (on the discourse platform, which has no
built-in connector): it records every call, and a script says what the next calls do."""

from __future__ import annotations

from palabre.connectors.base import Capability, Connector, Delivered, PullResult


class CountingConnector(Connector):
    """A test platform: records every call; `script` says what the next calls do.

    Each entry of `script` is an exception to raise, "crash" (the worker dies after the platform
    got the message: a BaseException no handler catches), or None (succeed).
    """

    platform = "discourse"
    capabilities = frozenset(Capability)
    calls: list[tuple] = []
    script: list = []
    delivered: dict[str, Delivered] = {}
    pulls: list[PullResult] = []

    def _next(self, call: tuple) -> None:
        type(self).calls.append(call)
        step = type(self).script.pop(0) if type(self).script else None
        if step == "crash":
            key = call[-1]
            type(self).delivered[key] = Delivered(f"ext-{len(type(self).calls)}", "https://forum.example/t/1")
            raise KeyboardInterrupt("worker died")
        if isinstance(step, BaseException):
            raise step

    def reply(self, channel, *, in_reply_to, text, idempotency_key):
        self._next(("reply", in_reply_to.external_id, text, idempotency_key))
        found = Delivered(
            f"reply-{len(type(self).calls)}", f"https://forum.example/p/{len(type(self).calls)}"
        )
        type(self).delivered[idempotency_key] = found
        return found

    def publish(self, channel, *, text, media=(), idempotency_key):
        self._next(("publish", text, len(media), idempotency_key))
        found = Delivered(f"post-{len(type(self).calls)}", f"https://forum.example/t/{len(type(self).calls)}")
        type(self).delivered[idempotency_key] = found
        return found

    def hide(self, channel, item):
        self._next(("hide", item.external_id))

    def delete(self, channel, item):
        self._next(("delete", item.external_id))

    def pull(self, channel, cursor):
        type(self).calls.append(("pull", cursor))
        step = type(self).script.pop(0) if type(self).script else None
        if isinstance(step, BaseException):
            raise step
        return type(self).pulls.pop(0) if type(self).pulls else PullResult([], cursor)


class FindingConnector(CountingConnector):
    """The same platform, able to look up what an interrupted attempt delivered."""

    def find_delivered(self, channel, idempotency_key):
        type(self).calls.append(("find", idempotency_key))
        return type(self).delivered.get(idempotency_key)


class IdempotentConnector(CountingConnector):
    """A platform that drops a repeated request with the same idempotency key (like Mastodon)."""

    idempotent_delivery = True


class SlowConnector(CountingConnector):
    """A platform that takes its time to answer, so concurrent workers overlap."""

    def reply(self, channel, *, in_reply_to, text, idempotency_key):
        import time

        time.sleep(0.3)
        return super().reply(channel, in_reply_to=in_reply_to, text=text, idempotency_key=idempotency_key)
