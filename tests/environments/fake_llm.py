"""A local OpenAI-compatible chat-completions server for tests, on a loopback port.

Replies come from a script: each entry is a reply text, or an HTTP status to answer with
instead. When the script runs out the last entry repeats. Every request is kept.

The platform calls only public addresses unless OUTBOUND_ALLOW_PRIVATE is on: while the server
runs, it is on in this process (the session's Celery worker has it on too)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.test import override_settings


class FakeChatServer:
    def __init__(self, replies: list[str | int], delay: float = 0.0):
        self.replies = list(replies)
        self.delay = delay
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(
                        {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                    )
                    reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                time.sleep(server.delay)
                if isinstance(reply, int):
                    # What a server may say about itself, which the platform must not repeat.
                    detail = b"internal detail: /srv/models/secret.bin"
                    self.send_response(reply)
                    self.send_header("Content-Length", str(len(detail)))
                    self.end_headers()
                    self.wfile.write(detail)
                    return
                payload = json.dumps(
                    {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.loopback_allowed = override_settings(OUTBOUND_ALLOW_PRIVATE=True)

    def __enter__(self):
        self.loopback_allowed.enable()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.loopback_allowed.disable()
        self.httpd.shutdown()
        self.httpd.server_close()
