"""lake.sessions: every session of the process reads the botocore models through one loader."""

from __future__ import annotations

from lake import sessions


def test_sessions_share_one_loader_and_its_search_paths_stay_put() -> None:
    first, second = sessions.session(region_name="us-east-1"), sessions.session(region_name="eu-west-1")
    loader = first._session.get_component("data_loader")
    assert second._session.get_component("data_loader") is loader
    paths = list(loader.search_paths)
    for _ in range(5):
        sessions.session()
    assert loader.search_paths == paths  # boto3 appends its data path per session; it is kept once
    assert len(set(paths)) == len(paths)


def test_a_session_keeps_its_own_region_credentials_and_events() -> None:
    a = sessions.session(region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="a")
    b = sessions.session(region_name="eu-west-1", aws_access_key_id="B", aws_secret_access_key="b")
    assert (a.region_name, b.region_name) == ("us-east-1", "eu-west-1")
    ca, cb = a.get_credentials(), b.get_credentials()
    assert ca is not None and cb is not None
    assert (ca.access_key, cb.access_key) == ("A", "B")
    seen: list[str] = []
    a.events.register("before-send", lambda **kw: seen.append("a"))
    assert b.events is not a.events
    client = b.client("sts", endpoint_url="http://127.0.0.1:9", region_name="eu-west-1")
    assert client.meta.region_name == "eu-west-1" and seen == []
