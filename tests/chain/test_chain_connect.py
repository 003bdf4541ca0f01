"""connect(): the three backends, the chain-id guard, and one-line errors for unreachable nodes."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from faultproxy import FaultProxy

from pkr_pilot.chain import AnvilNode, connect, free_port
from pkr_pilot.config import NetworkConfig, Project
from pkr_pilot.errors import ChainError, ChainIdMismatch, ConfigError


def test_local_network_starts_a_managed_anvil_and_stops_it_afterwards(project: Project) -> None:
    with connect(project, "local") as chain:
        assert chain.kind == "anvil" and chain.chain_id == 31337 and chain.is_dev
        assert chain.node is not None and chain.node.running
        assert chain.url == chain.node.url
        assert chain.w3.eth.block_number == 0
        node = chain.node
    assert not node.running


def test_managed_anvil_is_stopped_when_the_block_raises(project: Project) -> None:
    with pytest.raises(KeyError), connect(project, "local") as chain:
        node = chain.node
        raise KeyError("boom")
    assert node is not None and not node.running


def test_memory_network_is_an_in_process_chain_1337(project: Project) -> None:
    with connect(project, "memory") as chain:
        assert chain.kind == "memory" and chain.chain_id == 1337 and chain.is_dev
        assert chain.url is None and chain.tester is not None
        assert chain.w3.eth.chain_id == 1337


def test_rpc_url_with_the_expected_chain_id_connects(project: Project, anvil: Callable[..., AnvilNode]) -> None:
    node = anvil()
    net = NetworkConfig(name="mine", backend="rpc", url=node.url, chain_id=31337)
    with connect(project, net) as chain:
        assert chain.kind == "rpc" and chain.chain_id == 31337 and chain.is_dev
        assert chain.w3.eth.get_balance(chain.w3.eth.accounts[0]) == 10_000 * 10**18


def test_the_chain_id_is_read_once_not_before_every_call(project: Project, anvil: Callable[..., AnvilNode]) -> None:
    """web3's validation middleware would ask eth_chainId before each eth_call and estimate."""
    node = anvil()
    proxy = FaultProxy(node.url)
    try:
        with connect(project, NetworkConfig(name="mine", backend="rpc", url=proxy.url, chain_id=31337)) as chain:
            sender = chain.w3.eth.accounts[0]
            for _ in range(5):
                chain.w3.eth.call({"from": sender, "to": sender, "data": "0x"})
                chain.w3.eth.estimate_gas({"from": sender, "to": sender, "value": 1})
        assert proxy.calls["eth_call"] == 5 and proxy.calls["eth_estimateGas"] == 5
        assert proxy.calls["eth_chainId"] == 1  # the guard's own read when connecting
    finally:
        proxy.close()


def test_a_url_given_as_network_name_is_accepted(project: Project, anvil: Callable[..., AnvilNode]) -> None:
    node = anvil()
    with connect(project, node.url) as chain:
        assert chain.kind == "rpc" and chain.network.chain_id is None and chain.chain_id == 31337


def test_chain_id_guard_refuses_a_node_with_another_chain_id(
    project: Project, anvil: Callable[..., AnvilNode]
) -> None:
    node = anvil()
    net = NetworkConfig(name="mainnet-ish", backend="rpc", url=node.url, chain_id=1)
    with pytest.raises(ChainIdMismatch) as info, connect(project, net):
        pytest.fail("connected to the wrong chain")
    assert info.value.expected == 1 and info.value.actual == 31337
    assert "network 'mainnet-ish' expects chain id 1 but the node reports 31337" in str(info.value)


def test_websocket_url_connects_to_the_same_node(project: Project, anvil: Callable[..., AnvilNode]) -> None:
    node = anvil()
    ws_url = node.url.replace("http://", "ws://")
    net = NetworkConfig(name="ws", backend="rpc", url=ws_url, chain_id=31337)
    with connect(project, net) as chain:
        assert chain.w3.eth.block_number == 0
        assert chain.w3.eth.accounts[0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_unreachable_local_node_fails_fast_with_one_line_and_what_to_do(project: Project) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    net = NetworkConfig(name="localhost", backend="rpc", url=url, chain_id=31337)
    started = time.monotonic()
    with pytest.raises(ChainError) as info, connect(project, net):
        pytest.fail("connected to nothing")
    assert time.monotonic() - started < 2  # no retry back-off
    message = str(info.value)
    assert f"cannot reach the node at {url} (Connection refused)" in message
    assert "`pkr-pilot node`" in message
    assert "\n" not in message


def test_a_web_page_is_not_mistaken_for_a_node(project: Project, html_server: str) -> None:
    net = NetworkConfig(name="web", backend="rpc", url=html_server)
    with pytest.raises(ChainError, match="did not answer eth_chainId like an Ethereum JSON-RPC node"), connect(
        project, net
    ):
        pytest.fail("connected to a web page")


def test_unsupported_url_scheme_is_a_config_error(project: Project) -> None:
    net = NetworkConfig(name="odd", backend="rpc", url="ftp://127.0.0.1:21")
    with pytest.raises(ConfigError, match="unsupported URL"), connect(project, net):
        pytest.fail("connected over ftp")


def test_unknown_network_name_is_a_config_error(project: Project) -> None:
    with pytest.raises(ConfigError, match="unknown network 'nowhere'"), connect(project, "nowhere"):
        pytest.fail("connected to an unknown network")


def test_memory_network_with_block_time_is_refused(project: Project) -> None:
    net = NetworkConfig(name="mem", backend="memory", block_time=2)
    with pytest.raises(ConfigError, match="block_time needs the anvil backend"), connect(project, net):
        pytest.fail("block_time accepted on py-evm")


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def html_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html><body>not a node</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

