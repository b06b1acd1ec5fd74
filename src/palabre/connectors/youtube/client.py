"""Google's client, sending through Palabre's one HTTP client."""

from __future__ import annotations

from palabre.connectors import http_client


class GuardedHttp:
    """What googleapiclient expects of an `httplib2.Http` (`request()` answering `(response,
    content)`), sending through Palabre's one HTTP client (`http_client.request`: the address
    guard, the timeout, the size limit) with the channel's bearer token."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token

    def request(self, uri, method="GET", body=None, headers=None, redirections=5, connection_type=None):
        sent = {**(headers or {}), "Authorization": f"Bearer {self.access_token}"}
        sent["user-agent"] = f"{http_client.USER_AGENT} {sent.get('user-agent', '')}".strip()
        if hasattr(body, "read"):  # an upload's bytes come as a stream (or a slice of one)
            body = body.read()
        response = http_client.request(method, uri, content=body, headers=sent)
        import httplib2  # with Google's client, when YouTube is called: not at start-up

        info = {name.lower(): value for name, value in response.headers.items()}
        info["status"] = str(response.status_code)
        return httplib2.Response(info), response.content
