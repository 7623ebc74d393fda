"""`redis_url` builds a Redis rate-limit store: each `on_store_error` choice while Redis
is down, and, with a live Redis (`WARDEN_REDIS_URL`, set by scripts/with-redis.sh),
limits counted across engines through check_http and check_http_async alike."""

import asyncio
import os
import socket
import time
import uuid

import pytest

import warden

REDIS_URL = os.environ.get("WARDEN_REDIS_URL")


def policy() -> tuple[str, str]:
    # A fresh policy name per test: Redis keys are per policy, so runs never share counts.
    name = f"t{uuid.uuid4().hex[:12]}"
    text = f"policy {name}\nlimit login: 2 per 15m by ip strict\nroute POST /login {{\n  public\n  limit login\n}}\n"
    return f"{name}.warden", text


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOGIN = {"method": "POST", "path": "/login", "ip": "203.0.113.7"}


def live() -> str:
    if REDIS_URL:
        return REDIS_URL
    if os.environ.get("CI") == "true":
        pytest.fail("WARDEN_REDIS_URL is unset under CI=true: run under scripts/with-redis.sh")
    pytest.skip("SKIPPED: WARDEN_REDIS_URL is unset (run under scripts/with-redis.sh)")


@pytest.mark.parametrize(("on", "want"), [("fail_closed", 503), ("fail_open", 200)])
def test_redis_down_each_choice(on: str, want: int) -> None:
    name, text = policy()
    e = warden.Engine.from_source(name, text, redis_url=f"redis://127.0.0.1:{closed_port()}", on_store_error=on)
    started = time.monotonic()
    d = e.check_http(**LOGIN)
    assert time.monotonic() - started < 2.0
    assert d.status == want
    if want == 503:
        # The client learns only that the service is unavailable; what failed is in `note`.
        assert not d.allowed and d.reason == "service temporarily unavailable"
        assert "rate-limit store" in (d.note or "") and "203.0.113.7" not in (d.note or "")

    async def later() -> warden.HttpDecision:
        return await e.check_http_async(**LOGIN)

    assert asyncio.run(later()).status == want


def test_redis_down_fallback_counts_in_memory() -> None:
    name, text = policy()
    e = warden.Engine.from_source(name, text, redis_url=f"redis://127.0.0.1:{closed_port()}", on_store_error="fallback")
    assert [e.check_http(**LOGIN).status for _ in range(3)] == [200, 200, 429]


def test_live_redis_counts_across_engines_sync_and_async() -> None:
    url = live()
    name, text = policy()
    a = warden.Engine.from_source(name, text, redis_url=url)
    b = warden.Engine.from_source(name, text, redis_url=url)
    assert a.check_http(**LOGIN).status == 200

    async def rest() -> list[warden.HttpDecision]:
        return [await b.check_http_async(**LOGIN), await a.check_http_async(**LOGIN)]

    second, third = asyncio.run(rest())
    # Shared through Redis: engine b sees engine a's request.
    assert (second.status, third.status) == (200, 429)
    assert int(third.headers["retry-after"]) > 0
    assert b.check_http(**{**LOGIN, "ip": "203.0.113.8"}).status == 200


def test_check_http_async_does_not_block_the_event_loop() -> None:
    # A Redis that accepts connections and never answers: each check waits for the
    # store's timeouts. Meanwhile the loop must keep running other tasks.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        name, text = policy()
        e = warden.Engine.from_source(name, text, redis_url=f"redis://127.0.0.1:{server.getsockname()[1]}")

        async def main() -> tuple[int, int]:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            t = asyncio.create_task(ticker())
            d = await e.check_http_async(**LOGIN)
            t.cancel()
            return d.status, ticks

        status, ticks = asyncio.run(main())
        assert status == 503  # fail_closed by default
        # The check waited at least the connect timeout (~500 ms); the ticker ran throughout.
        assert ticks >= 10, ticks
    finally:
        server.close()


def test_bad_async_request_raises_before_awaiting() -> None:
    name, text = policy()
    e = warden.Engine.from_source(name, text)
    with pytest.raises(RuntimeError, match="no running event loop"):
        e.check_http_async(**LOGIN)  # an awaitable needs a loop to complete on

    async def main() -> None:
        with pytest.raises(warden.RequestError, match="must start with"):
            await e.check_http_async(method="GET", path="x")

    asyncio.run(main())


CLUSTER_URLS = os.environ.get("WARDEN_REDIS_CLUSTER_URLS")
TLS_URL = os.environ.get("WARDEN_REDIS_TLS_URL")


def needed(value: str | None, var: str, script: str) -> str:
    if value:
        return value
    if os.environ.get("CI") == "true":
        pytest.fail(f"{var} is unset under CI=true: run under scripts/{script}")
    pytest.skip(f"SKIPPED: {var} is unset (run under scripts/{script})")


def test_redis_cluster_counts_across_engines_sync_and_async() -> None:
    seeds = needed(CLUSTER_URLS, "WARDEN_REDIS_CLUSTER_URLS", "with-redis-cluster.sh").split(",")
    name, text = policy()
    a = warden.Engine.from_source(name, text, redis_cluster=seeds)
    b = warden.Engine.from_source(name, text, redis_cluster=seeds[1:])
    assert a.check_http(**LOGIN).status == 200

    async def rest() -> list[warden.HttpDecision]:
        return [await b.check_http_async(**LOGIN), await a.check_http_async(**LOGIN)]

    second, third = asyncio.run(rest())
    assert (second.status, third.status) == (200, 429)


def test_rediss_with_a_ca_file_counts_and_another_ca_fails_closed() -> None:
    url = needed(TLS_URL, "WARDEN_REDIS_TLS_URL", "with-redis-tls.sh")
    ca, wrong = os.environ["WARDEN_REDIS_TLS_CA"], os.environ["WARDEN_REDIS_TLS_WRONG_CA"]
    name, text = policy()
    a = warden.Engine.from_source(name, text, redis_url=url, redis_ca_file=ca)
    b = warden.Engine.from_source(name, text, redis_url=url, redis_ca_file=ca)
    assert [a.check_http(**LOGIN).status, b.check_http(**LOGIN).status, a.check_http(**LOGIN).status] == [200, 200, 429]
    refused = warden.Engine.from_source(name, text, redis_url=url, redis_ca_file=wrong).check_http(**LOGIN)
    assert refused.status == 503
    assert "certificate" in (refused.note or "")


def test_redis_options_that_cannot_be_honoured_are_config_errors() -> None:
    name, text = policy()
    with pytest.raises(warden.ConfigError, match="not both"):
        warden.Engine.from_source(name, text, redis_url="redis://127.0.0.1:6379", redis_cluster=["redis://127.0.0.1:7000"])
    with pytest.raises(warden.ConfigError, match="database 0") as err:
        warden.Engine.from_source(name, text, redis_cluster=["redis://:hunter2@127.0.0.1:7000/3"])
    assert "hunter2" not in str(err.value)
    with pytest.raises(warden.ConfigError, match="verification"):
        warden.Engine.from_source(name, text, redis_url="rediss://127.0.0.1:6380/#insecure")
    with pytest.raises(warden.ConfigError, match="cannot read the CA file"):
        warden.Engine.from_source(name, text, redis_url="rediss://127.0.0.1:6380", redis_ca_file="/nonexistent/ca.pem")
    # A single URL string is not a list of seeds (it would be read as characters).
    with pytest.raises(TypeError):
        warden.Engine.from_source(name, text, redis_cluster="redis://127.0.0.1:7000")  # type: ignore[arg-type]
