"""The wire formats of the notification targets and one HTTP POST (issue #16), stdlib only.

- `wecom`: 企业微信 group robot, `{"msgtype": "markdown", "markdown": {"content": ...}}`.
- `dingtalk`: 钉钉 robot, `{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`; with a
  secret, the signed mode: `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}"))) added to the URL's query at each try.
- `webhook`: `{"key", "kind", "title", "text", "facts"}`; with a secret, the header
  `X-Ledger-Signature: sha256=<hex HMAC-SHA256 of the body>`.

Every message carries its idempotency key: in the body (the robots' text ends with it; the
webhook's `key`) and in the headers `Idempotency-Key` and `X-Ledger-Notice-Key`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass

TIMEOUT = 10.0
# A robot answering 200 with one of these `errcode`s asks us to slow down: retried, not given up.
RATE_LIMITED = {45009, 130101}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool  # a failure worth trying again later (5xx, no connection, rate limited)
    error: str = ""


@dataclass(frozen=True)
class Mentions:
    """Whom a message @-mentions: the consultants it concerns, and their user ids in each robot."""

    concerns: tuple = ()
    wecom: tuple = ()
    dingtalk: tuple = ()


def body_for(kind: str, key: str, notice_kind: str, title: str, text: str, facts: dict,
             mentions: Mentions = Mentions()) -> str:
    """WeCom markdown mentions with `<@userid>` in the content (markdown has no mentioned_list);
    DingTalk with `at.atUserIds` and `@userid` in the text (both are needed for the mention to
    show); the webhook names the consultants concerned (`concerns`)."""
    if kind == "wecom":
        tags = "".join(f"<@{u}>" for u in mentions.wecom)
        message = {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}" + (f"\n{tags}" if tags else "")}}
    elif kind == "dingtalk":
        tags = " ".join(f"@{u}" for u in mentions.dingtalk)
        message = {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n\n{text}"
                                                                              + (f"\n\n{tags}" if tags else "")}}
        if mentions.dingtalk:
            message["at"] = {"atUserIds": list(mentions.dingtalk), "isAtAll": False}
    else:
        message = {"key": key, "kind": notice_kind, "title": title, "text": text, "facts": facts,
                   "concerns": list(mentions.concerns)}
    return json.dumps(message, ensure_ascii=False, sort_keys=True)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def body_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Sender:
    """POSTs to targets, keeping one connection per host open between messages."""

    def __init__(self, timeout: float = TIMEOUT):
        self.timeout = timeout
        self.connections: dict[tuple, http.client.HTTPConnection] = {}

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()

    def _conn(self, parts: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        where = (parts.scheme, parts.hostname, parts.port)
        conn = self.connections.get(where)
        if conn is None:
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = cls(parts.hostname, parts.port, timeout=self.timeout)
            self.connections[where] = conn
        return conn

    def send(self, kind: str, url: str, secret: str | None, key: str, body: str) -> Outcome:
        data = body.encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
                   "X-Ledger-Notice-Key": key}
        if kind == "dingtalk" and secret:
            stamp = int(time.time() * 1000)
            joiner = "&" if "?" in url else "?"
            url = f"{url}{joiner}timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"
        if kind == "webhook" and secret:
            headers["X-Ledger-Signature"] = body_signature(secret, data)
        parts = urllib.parse.urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            status, answer = self._post(parts, path, data, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.connections.pop((parts.scheme, parts.hostname, parts.port), None)
            return Outcome(False, True, f"no answer: {type(exc).__name__}: {exc}"[:300])
        return classify(kind, status, answer)

    def _post(self, parts, path: str, data: bytes, headers: dict) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a kept connection the server closed meanwhile: once more, anew
            conn = self._conn(parts)
            try:
                conn.request("POST", path, body=data, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self.connections.pop((parts.scheme, parts.hostname, parts.port), None)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def classify(kind: str, status: int, answer: bytes) -> Outcome:
    if 500 <= status or status == 429:
        return Outcome(False, True, f"HTTP {status}")
    if status >= 400:
        return Outcome(False, False, f"HTTP {status}: {answer[:200].decode(errors='replace')}")
    if status >= 300:
        return Outcome(False, False, f"HTTP {status} (redirects are not followed)")
    if kind in ("wecom", "dingtalk"):
        try:
            code = int(json.loads(answer or b"{}").get("errcode", 0))
        except (ValueError, AttributeError, TypeError):
            code = 0
        if code:
            return Outcome(False, code in RATE_LIMITED, f"errcode {code}: {answer[:200].decode(errors='replace')}")
    return Outcome(True, False)
