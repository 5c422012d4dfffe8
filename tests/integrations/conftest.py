import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture(autouse=True)
def _fast_hashers(settings):
    # Protocol passwords are hashed with Django's hasher; PBKDF2's million
    # rounds would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT = 1.0


@pytest.fixture
def compat_for(db):
    """A Django test client posting JSON with X-Token (a "messaging" token)."""
    from django.test import Client

    from cabinet.services import token_create

    class CompatClient:
        def __init__(self, user, scopes=None, allowed_ips=""):
            created = token_create(
                account=user.account,
                scopes=scopes or ["messaging"],
                allowed_ips=allowed_ips,
            )
            self.key = created.key
            self.token = created.token
            self.client = Client()

        def post(self, path, data=None, raw=None, **extra):
            body = raw if raw is not None else json.dumps(data)
            return self.client.post(
                path,
                body,
                content_type="application/json",
                HTTP_X_TOKEN=self.key,
                **extra,
            )

        def send(self, data, **extra):
            return self.post("/json/v1.0/sms/send/text", data, **extra)

        def status(self, ids, **extra):
            return self.post("/json/v1.0/sms/status", ids, **extra)

    return CompatClient


class HookServer:
    """A webhook receiver on 127.0.0.1 (never any other address)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests.append({"headers": dict(self.headers), "body": body})
                if server.delay:
                    time.sleep(server.delay)
                self.send_response(server.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                try:
                    self.wfile.write(b"ok" if server.status < 300 else b"nope")
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook_server():
    server = HookServer()
    yield server
    server.close()
