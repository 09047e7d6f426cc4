#!/usr/bin/env python3
"""The same support agent behind an HTTP route, as a small web app (standard library only):
POST /chat {"message": ..., "session_id": ...} answers {"answer": ...}; GET /health answers ok.
It remembers each session's questions, so a conversation's later turns see the earlier ones.
It needs APP_TOKEN set and checks the X-App-Token header against it."""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from openai import OpenAI

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support_bot import answer  # noqa: E402

CLIENT = OpenAI()
MODEL = os.environ.get("APP_MODEL", "smollm2-135m-instruct")
SESSIONS = {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200 if self.path == "/health" else 404, {"ok": self.path == "/health"})

    def do_POST(self):
        if self.path != "/chat":
            return self.reply(404, {"error": "no such route"})
        if self.headers.get("X-App-Token") != os.environ.get("APP_TOKEN"):
            return self.reply(401, {"error": "bad token"})
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        history = SESSIONS.setdefault(request.get("session_id", ""), [])
        history.append(request["message"])
        system = "You are a support agent. Use get_order to look orders up."
        if len(history) > 1:
            system += " Earlier the customer said: " + " | ".join(history[:-1])
        self.reply(200, {"answer": answer(CLIENT, MODEL, request["message"], system)})


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
