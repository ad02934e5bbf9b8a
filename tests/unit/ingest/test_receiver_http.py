"""The local receiver's HTTP edges, over raw sockets (a client library would hide them), with no AWS:
chunked bodies (plain, gzip, past the limit), keep-alive, `Expect: 100-continue`, HTTP/1.0, a short body,
a stalled body, other methods, the listen backlog. A recording delivery stands in for Firehose, so each
test also sees exactly what was handed on."""

from __future__ import annotations

import gzip
import io
import socket
import struct
from collections.abc import Iterator

import pytest

from ingest.asgi import Limits
from ingest.server import ReceiverServer
from tests.unit.ingest.receiver_helpers import (
    KIB,
    LIMIT,
    TOKEN,
    Reader,
    Recorder,
    chunked,
    connect,
    head,
    serve,
    spans,
)


@pytest.fixture
def srv() -> Iterator[tuple[ReceiverServer, Recorder, io.StringIO]]:
    server, recorder, log = serve()
    try:
        yield server, recorder, log
    finally:
        server.stop()


def test_chunked_bodies_plain_and_gzip_are_decoded_and_handed_on_and_the_connection_kept(srv) -> None:
    server, recorder, _ = srv
    plain, zipped = spans(3, "plain"), gzip.compress(spans(2, "gzip"))
    with connect(server) as sock:
        reader = Reader(sock)
        sock.sendall(head(Transfer_Encoding="chunked") + chunked(plain, 7))
        assert reader.response()[0] == 200
        # keep-alive: the next request on the same connection, gzip and chunked
        sock.sendall(head(Transfer_Encoding="chunked", Content_Encoding="gzip") + chunked(zipped, 5))
        assert reader.response()[0] == 200
        # and one with a Content-Length
        sock.sendall(head(Content_Length=len(plain)) + plain)
        assert reader.response()[0] == 200
    names = sorted(rec.split(b'"span_name":"')[1].split(b'"')[0] for rec in recorder.records["traces"])
    assert names == sorted([b"plain-0", b"plain-1", b"plain-2"] * 2 + [b"gzip-0", b"gzip-1"])


def test_a_chunked_body_past_the_limit_gets_413_while_it_streams_and_nothing_is_handed_on(srv) -> None:
    server, recorder, _ = srv
    with connect(server) as sock:
        sock.sendall(head(Transfer_Encoding="chunked"))
        chunk = b"%x\r\n%s\r\n" % (8 * KIB, b"\0" * 8 * KIB)
        for _ in range(LIMIT // (8 * KIB) + 1):  # one chunk past the limit, and no last chunk
            sock.sendall(chunk)
        status, headers, body = Reader(sock).response()  # answered before the body's end
        assert status == 413 and headers["connection"] == "close"
        assert b"exceeds the limit" in body
    assert recorder.count == 0


def test_an_idle_keep_alive_connection_is_closed_after_its_timeout() -> None:
    server, _, _ = serve(Limits(keep_alive_seconds=1))
    try:
        with connect(server) as sock:
            reader = Reader(sock)
            sock.sendall(head(Content_Length=0))
            assert reader.response()[0] == 200
            assert reader.closed()  # within the socket's 20 s timeout, not never
        with connect(server) as sock:  # a head that never ends is not waited for either
            sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
            assert Reader(sock).closed()
    finally:
        server.stop()


def test_expect_100_continue_is_answered_before_the_body_and_refusals_come_instead(srv) -> None:
    server, recorder, _ = srv
    body = spans(2)
    with connect(server) as sock:
        reader = Reader(sock)
        sock.sendall(head(Content_Length=len(body), Expect="100-continue"))
        assert reader.response()[0] == 100  # the body is invited only now
        sock.sendall(body)
        assert reader.response()[0] == 200
    assert recorder.count == 2
    with connect(server) as sock:  # over the limit: 413 at once, the body is never invited
        sock.sendall(head(Content_Length=10 * LIMIT, Expect="100-continue"))
        status, headers, _ = Reader(sock).response()
        assert status == 413 and headers["connection"] == "close"
    with connect(server) as sock:  # a wrong media type: 415 at once
        sock.sendall(head(Content_Length=len(body), Expect="100-continue").replace(b"x-protobuf", b"xml"))
        assert Reader(sock).response()[0] == 415
    assert recorder.count == 2


def test_expect_100_continue_without_the_token_gets_401_before_the_body() -> None:
    server, recorder, _ = serve(token=TOKEN)
    try:
        with connect(server) as sock:
            sock.sendall(head(Content_Length=100, Expect="100-continue"))
            status, headers, _ = Reader(sock).response()
            assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    finally:
        server.stop()
    assert recorder.count == 0


def test_http_1_0_is_answered_and_the_connection_closed(srv) -> None:
    server, recorder, _ = srv
    body = spans(1)
    with connect(server) as sock:
        reader = Reader(sock)
        sock.sendall(head(version="1.0", Content_Length=len(body)) + body)
        assert reader.response()[0] == 200
        assert reader.closed()
    assert recorder.count == 1


def test_a_body_shorter_than_its_content_length_then_a_half_close_gets_400_and_nothing_is_handed_on(
    srv,
) -> None:
    server, recorder, log = srv
    body = spans(4)
    short = body[: len(spans(2))]  # two whole spans: a valid request on its own
    with connect(server) as sock:
        sock.sendall(head(Content_Length=len(body)) + short)
        sock.shutdown(socket.SHUT_WR)
        status, _, payload = Reader(sock).response()
    assert status == 400 and b"ended before its end" in payload
    assert recorder.count == 0
    assert "status=400" in log.getvalue()


def test_a_broken_chunk_gets_the_receivers_400(srv) -> None:
    server, recorder, _ = srv
    with connect(server) as sock:
        sock.sendall(head(Transfer_Encoding="chunked") + b"zz\r\nnot a chunk\r\n")
        status, headers, payload = Reader(sock).response()
    assert status == 400 and headers["content-type"] == "application/x-protobuf"
    assert b"chunked encoding" in payload
    assert recorder.count == 0


def test_a_body_that_stops_arriving_gets_408_after_the_read_timeout_and_nothing_is_handed_on() -> None:
    server, recorder, log = serve(Limits(read_timeout_seconds=0.5))
    body = spans(2)
    try:
        for framing in ({"Content_Length": len(body)}, {"Transfer_Encoding": "chunked"}):
            with connect(server) as sock:
                sent = body[:10] if "Content_Length" in framing else chunked(body)[:20]
                sock.sendall(head(**framing) + sent)  # then nothing more, and no half-close
                reader = Reader(sock)
                status, headers, payload = reader.response()
                assert status == 408 and headers["connection"] == "close", framing
                assert b"no request body bytes arrived" in payload
                assert reader.closed()
    finally:
        server.stop()
    assert recorder.count == 0
    assert log.getvalue().count("status=408") == 2


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "PATCH", "BREW"])
def test_other_methods_on_the_otlp_paths_get_405_with_allow_post(srv, method) -> None:
    server, recorder, _ = srv
    for path in ("/v1/traces", "/v1/logs", "/v1/metrics"):
        with connect(server) as sock:
            reader = Reader(sock)
            sock.sendall(head(path, method, Content_Length=0))
            status, headers, body = reader.response() if method != "HEAD" else _head_response(reader)
            assert (status, headers["allow"]) == (405, "POST"), (method, path)
            if method != "HEAD":
                assert f"{method} is not allowed".encode() in body
    assert recorder.count == 0


def _head_response(reader: Reader) -> tuple[int, dict[str, str], bytes]:
    """A HEAD answer has a Content-Length but no body."""
    while b"\r\n\r\n" not in reader.buf:
        assert reader._fill()
    raw, reader.buf = reader.buf.split(b"\r\n\r\n", 1)
    status_line, *lines = raw.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    assert reader.buf == b""
    return int(status_line.split()[1]), headers, b""


def test_the_listen_backlog_is_at_least_128(srv) -> None:
    server, _, _ = srv
    # Linux's tcp_info of a listening socket: tcpi_sacked (offset 28) is its backlog (sk_max_ack_backlog).
    info = server.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    assert struct.unpack_from("I", info, 28)[0] >= 128


def test_a_whole_request_then_a_half_close_is_answered_then_closed(srv) -> None:
    server, recorder, _ = srv
    body = spans(2)
    for framing in ({"Content_Length": len(body)}, {"Transfer_Encoding": "chunked"}):
        with connect(server) as sock:
            sock.sendall(head(**framing) + (body if "Content_Length" in framing else chunked(body)))
            sock.shutdown(socket.SHUT_WR)  # as `nc -N` and some clients do once they have sent
            reader = Reader(sock)
            assert reader.response()[0] == 200, framing
            assert reader.closed()
    assert recorder.count == 4
