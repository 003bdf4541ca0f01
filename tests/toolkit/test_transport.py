"""The one JSON-RPC client: single calls, batches that shrink when a node refuses them, one error model."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pkr_pilot.errors import ChainError
from pkr_pilot.transport import HttpTransport, RpcError, call_all


class FakeNode:
    """Answers ``echo`` with its params; refuses arrays longer than ``max_batch`` the way ``refusal`` says."""

    def __init__(self, max_batch: int, refusal: str) -> None:
        self.max_batch = max_batch
        self.refusal = refusal
        self.posts: list[int] = []  # calls per POST (0: a single request)


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    if request["method"] == "echo":
        return {"jsonrpc": "2.0", "id": request["id"], "result": request["params"]}
    if request["method"] == "nothing":
        return {"jsonrpc": "2.0", "id": request["id"], "result": None}
    return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "method not found"}}


@pytest.fixture
def node(request: pytest.FixtureRequest) -> Iterator[tuple[FakeNode, str]]:
    max_batch, refusal = getattr(request, "param", (1000, "413"))
    fake = FakeNode(max_batch, refusal)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, answer = 200, None
            if isinstance(body, list):
                fake.posts.append(len(body))
                if len(body) > fake.max_batch:
                    if fake.refusal == "413":
                        status, answer = 413, b"too large"
                    elif fake.refusal == "html":
                        status, answer = 405, b"<html>batches not allowed</html>"
                    else:
                        answer = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch too large"}}).encode()
                else:
                    answer = json.dumps([_answer(r) for r in body]).encode()
            else:
                fake.posts.append(0)
                answer = json.dumps(_answer(body)).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_call_returns_its_result_and_an_error_answer_is_an_rpc_error(node: tuple[FakeNode, str]) -> None:
    _, url = node
    transport = HttpTransport(url)
    assert transport.call("echo", [1, "a"]) == [1, "a"]
    with pytest.raises(RpcError) as info:
        transport.call("nope")
    assert (info.value.method, info.value.code, info.value.rpc_message) == ("nope", -32601, "method not found")
    assert isinstance(info.value, ChainError)


def test_a_batch_gives_one_reply_per_call_in_order_with_errors_per_call(node: tuple[FakeNode, str]) -> None:
    _, url = node
    replies = HttpTransport(url).batch([("echo", [n]) for n in range(5)] + [("nope", [])])
    assert [r.result for r in replies[:5]] == [[n] for n in range(5)]
    assert replies[5].error is not None and replies[5].message == "method not found"


def test_call_all_gives_the_results_or_one_error_saying_what_was_being_read(node: tuple[FakeNode, str]) -> None:
    _, url = node
    transport = HttpTransport(url)
    assert call_all(transport, [("echo", [1]), ("nothing", [])], what="reading") == [[1], None]
    with pytest.raises(ChainError) as failed:
        call_all(transport, [("echo", [1]), ("nope", [])], what="reading the nonce", hint="check the node")
    assert str(failed.value).startswith("reading the nonce: nope failed: method not found") and failed.value.hint == "check the node"
    with pytest.raises(ChainError, match="reading the head: nothing failed: no result"):
        call_all(transport, [("nothing", [])], what="reading the head", none_ok=False)


@pytest.mark.parametrize("node", [(8, "413"), (8, "json"), (8, "html"), (0, "json")], indirect=True)
def test_a_node_that_refuses_a_batch_gets_smaller_batches_not_an_error(node: tuple[FakeNode, str]) -> None:
    fake, url = node
    transport = HttpTransport(url, max_batch=100)
    replies = transport.batch([("echo", [n]) for n in range(50)])
    assert [r.result for r in replies] == [[n] for n in range(50)]
    accepted = max(fake.max_batch, 1)
    assert transport.max_batch <= accepted  # remembered: the next batch is not refused again
    before = len(fake.posts)
    transport.batch([("echo", [n]) for n in range(20)])
    sizes = fake.posts[before:]
    assert all(size <= fake.max_batch for size in sizes)  # 0: single requests (the node takes no arrays)


def test_an_unreachable_node_is_one_chain_error_with_a_hint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChainError) as info:
        HttpTransport(f"http://127.0.0.1:{port}", timeout=2).call("eth_chainId")
    assert f"cannot reach the node at http://127.0.0.1:{port} (Connection refused)" in str(info.value)
    assert "pkr-pilot node" in str(info.value.hint)
