"""A loopback web server for feeds that answers conditional requests as WordPress does: each
address has an ETag and a Last-Modified that change only when its body changes, and a request
that names the current ones gets `304 Not Modified`."""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count


class FeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, tuple[bytes, str, str, str]] = {}  # path -> body, type, etag, modified
        self.requests: list[tuple[str, dict[str, str], int]] = []  # path, headers, status
        self._versions = count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                page = server.pages.get(self.path)
                if page is None:
                    status, body, headers = 404, b"<html>Page not found</html>", {"Content-Type": "text/html"}
                else:
                    body, content_type, etag, modified = page
                    headers = {"Content-Type": content_type, "ETag": etag, "Last-Modified": modified}
                    if self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                    else:
                        status = 200
                server.requests.append((self.path, dict(self.headers), status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def publish(self, path: str, body: str, content_type: str) -> None:
        """Serves `body` at `path`; a new body gets a new ETag and Last-Modified."""
        data = body.replace("{BASE}", self.url).encode()
        current = self.pages.get(path)
        if current and current[0] == data:
            return
        version = next(self._versions)
        etag = '"' + hashlib.md5(data).hexdigest() + '"'
        modified = formatdate(1714989600 + version * 60, usegmt=True)
        self.pages[path] = (data, content_type, etag, modified)

    def remove(self, path: str) -> None:
        self.pages.pop(path, None)

    def statuses(self, path: str) -> list[int]:
        return [status for requested, _headers, status in self.requests if requested == path]

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
