"""Delivering hot leads to a webhook: redirects, slow and malformed receivers.

Receivers are real servers on 127.0.0.1: an HTTP server that redirects, and raw sockets that
trickle an answer a byte at a time or send something that is not HTTP. Every failure is a
``WebhookError`` naming the reason (the CLI exits 3 with it), and the whole delivery is bounded
in time, not each read.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from funnel.apply import WebhookError, post_webhook
from funnel.cli import main
from funnel.ingest import load_demo
from funnel.store import Store

PAYLOAD = {"rule_set": "agreed", "count": 1, "leads": [{"id": "L1", "score": 80, "tier": "hot"}]}


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Answers by path: /hook takes the POST; /moved-302, /moved-307 ... redirect."""

    received: list[tuple[str, str, bytes]]
    elsewhere: str = ""

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.received.append((method, self.path, body))
        if self.path.startswith("/moved-"):
            code = int(self.path.split("-")[1])
            target = self.elsewhere + "/hook" if self.path.endswith("-away") else "/hook"
            self.send_response(code)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_GET(self) -> None:
        self._answer("GET")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receivers() -> Iterator[tuple[str, type[_Receiver], str, type[_Receiver]]]:
    """Two HTTP receivers on different ports (two origins)."""
    servers, found = [], []
    for _ in range(2):
        handler = type("Receiver", (_Receiver,), {"received": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        found.append((f"http://127.0.0.1:{server.server_port}", handler))
    (a, ha), (b, hb) = found
    ha.elsewhere = b
    yield a, ha, b, hb
    for server in servers:
        server.shutdown()


def test_a_302_redirect_is_refused_not_followed_as_a_get_without_the_leads(
    receivers: tuple[str, type[_Receiver], str, type[_Receiver]],
) -> None:
    base, hook, _, _ = receivers

    with pytest.raises(WebhookError) as caught:
        post_webhook(f"{base}/moved-302", PAYLOAD)

    assert caught.value.code == "redirected"
    assert "HTTP 302" in str(caught.value) and "/hook" in str(caught.value)
    assert "リダイレクト" in caught.value.message("ja")
    assert [(m, p) for m, p, _ in hook.received] == [("POST", "/moved-302")]  # no GET after it


@pytest.mark.parametrize("code", [307, 308])
def test_a_same_origin_307_or_308_is_posted_again_with_the_same_body(
    code: int, receivers: tuple[str, type[_Receiver], str, type[_Receiver]]
) -> None:
    base, hook, _, _ = receivers

    assert post_webhook(f"{base}/moved-{code}", PAYLOAD) == 200

    (first, second) = hook.received
    assert (first[0], first[1]) == ("POST", f"/moved-{code}")
    assert (second[0], second[1]) == ("POST", "/hook")
    assert json.loads(second[2]) == PAYLOAD


def test_a_307_to_another_origin_is_refused_and_the_other_origin_gets_nothing(
    receivers: tuple[str, type[_Receiver], str, type[_Receiver]],
) -> None:
    base, _, other, other_hook = receivers

    with pytest.raises(WebhookError) as caught:
        post_webhook(f"{base}/moved-307-away", PAYLOAD)

    assert caught.value.code == "redirected" and other in str(caught.value)
    assert other_hook.received == []


def _raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-connection-at-a-time TCP server on 127.0.0.1 that reads a request, then ``answer``s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(1 << 16)
                    answer(conn)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        listener.close()


def _trickle(conn: socket.socket) -> None:
    """One byte of a valid status line every 2 seconds: never quiet long enough to time out."""
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
        conn.sendall(bytes([byte]))
        time.sleep(2)


@pytest.fixture
def trickling() -> Iterator[str]:
    yield from _raw_server(_trickle)


@pytest.fixture
def malformed() -> Iterator[str]:
    yield from _raw_server(lambda conn: conn.sendall(b"this is not http\r\n\r\n"))


@pytest.fixture
def hangs_up() -> Iterator[str]:
    yield from _raw_server(lambda conn: None)


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline(trickling: str) -> None:
    started = time.monotonic()

    with pytest.raises(WebhookError) as caught:
        post_webhook(trickling, PAYLOAD, timeout=3)

    assert caught.value.code == "too_slow"
    assert "within 3 s" in str(caught.value) and "FUNNEL_WEBHOOK_TIMEOUT" in str(caught.value)
    assert time.monotonic() - started < 8  # each read alone never timed out (2 s < 3 s)


@pytest.mark.parametrize("server", ["malformed", "hangs_up"])
def test_an_answer_that_is_not_http_is_a_webhook_error_naming_it(
    server: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(server)

    with pytest.raises(WebhookError) as caught:
        post_webhook(url, PAYLOAD, timeout=5)

    assert caught.value.code == "bad_response"
    assert "not valid HTTP" in str(caught.value) and "HTTP" in caught.value.message("ja")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:notaport/hook", "http://[::1/hook", "https://\udcff.example/"]
)
def test_an_address_that_cannot_be_used_is_a_webhook_error(url: str) -> None:
    with pytest.raises(WebhookError) as caught:
        post_webhook(url, PAYLOAD, timeout=5)

    assert caught.value.code in ("invalid_url", "unreachable")
    assert url.split("/")[2][:9] in str(caught.value)


# --- through `funnel hot`: exit code 3 with the reason -------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A database, an agreed rule-set file and a new leads file (from the demo)."""
    from funnel.demo import generate_leads

    folder = tmp_path_factory.mktemp("webhook")
    db = folder / "funnel.duckdb"
    with Store(db) as store:
        load_demo(store, "demo", leads=500)
    rules = folder / "rules.yaml"
    assert main(["template", "--dataset", "demo", "--out", str(rules), "--db", str(db)]) == 0
    generate_leads(200, seed=3).to_csv(folder / "today.csv", index=False)
    return db, rules, folder / "today.csv"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_funnel_hot_exits_3_on_a_redirect_and_on_a_trickling_receiver(
    lang: str,
    scored: tuple[Path, Path, Path],
    receivers: tuple[str, type[_Receiver], str, type[_Receiver]],
    trickling: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, rules, leads = scored
    base, hook, _, _ = receivers
    monkeypatch.setenv("FUNNEL_WEBHOOK_TIMEOUT", "2")
    for url, expected in (
        (f"{base}/moved-302", {"en": "redirect (HTTP 302)", "ja": "リダイレクト"}),
        (trickling, {"en": "within 2 s", "ja": "2 秒以内"}),
    ):
        capsys.readouterr()
        code = main(["--lang", lang, "hot", "--rules", str(rules), str(leads), "--webhook", url])
        err = capsys.readouterr().err
        assert code == 3, err
        assert expected[lang] in err and "Traceback" not in err
    assert [m for m, _, _ in hook.received] == ["POST"]
