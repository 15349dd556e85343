"""The HTTP layer at the byte level (respx): retries, Retry-After, DAILY, refusals, secrecy."""

from __future__ import annotations

import gzip
import io
import json
import random

import httpx
import pytest
import respx

from hubaudit.config import Secret
from hubaudit.errors import DailyLimitReached, HubSpotAuthError, KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.hubspot.transport import RateLimiter, RateLimitPolicy, Transport
from hubaudit.logs import configure_logging

BASE = "https://api.hubapi.com"
TOKEN = "pat-" + "na1-11111111-2222-3333-4444-555555555555"  # fake, shaped like a real one
PATH = "/crm/v3/properties/deals"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def transport(fake_time: FakeTime) -> Transport:
    return Transport(
        BASE,
        Secret(TOKEN),
        portal="acme",
        max_retries=3,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        rng=random.Random(7),
    )


def rate_limited(policy: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        429,
        headers=headers,
        json={
            "status": "error",
            "message": "You have reached your limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": "c",
            "policyName": policy,
        },
    )


@respx.mock
def test_retry_after_is_honoured_on_429(transport: Transport, fake_time: FakeTime) -> None:
    route = respx.get(BASE + PATH).mock(
        side_effect=[
            rate_limited("TEN_SECONDLY_ROLLING", **{"Retry-After": "3"}),
            httpx.Response(200, json={"results": []}),
        ]
    )
    assert transport.get_json(PATH) == {"results": []}
    assert route.call_count == 2
    assert sum(fake_time.sleeps) == pytest.approx(3.0)
    assert transport.api_calls == 2


@respx.mock
def test_429_without_retry_after_waits_for_the_window(
    transport: Transport, fake_time: FakeTime
) -> None:
    respx.get(BASE + PATH).mock(
        side_effect=[
            rate_limited(
                "TEN_SECONDLY_ROLLING", **{"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
            ),
            httpx.Response(200, json={"results": []}),
        ]
    )
    transport.get_json(PATH)
    assert sum(fake_time.sleeps) == pytest.approx(10.0)


@respx.mock
def test_the_daily_policy_stops_the_run(transport: Transport) -> None:
    route = respx.get(BASE + PATH).mock(return_value=rate_limited("DAILY"))
    with pytest.raises(DailyLimitReached, match="DAILY"):
        transport.get_json(PATH)
    assert route.call_count == 1


@respx.mock
def test_5xx_is_retried_with_backoff_then_given_up_as_unreadable(
    transport: Transport, fake_time: FakeTime
) -> None:
    route = respx.get(BASE + PATH).mock(return_value=httpx.Response(502, text="Bad gateway"))
    with pytest.raises(KindUnreadable, match="gave up after 4 attempts: HTTP 502") as caught:
        transport.get_json(PATH)
    assert caught.value.category == "RETRIES_EXHAUSTED"
    assert route.call_count == 4
    assert len(fake_time.sleeps) == 3
    # exponential with jitter: each wait within [half, full] of 0.5 s * 2**attempt
    for attempt, waited in enumerate(fake_time.sleeps):
        assert 0.25 * 2**attempt <= waited <= 0.5 * 2**attempt


@respx.mock
def test_timeouts_and_malformed_bodies_are_retried(transport: Transport) -> None:
    respx.get(BASE + PATH).mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.Response(
                200, content=b'{"results": [', headers={"Content-Type": "application/json"}
            ),
            httpx.Response(200, json={"results": [{"name": "a"}]}),
        ]
    )
    assert transport.get_json(PATH) == {"results": [{"name": "a"}]}


@respx.mock
def test_missing_scopes_is_unreadable_with_the_scopes(transport: Transport) -> None:
    respx.get(BASE + PATH).mock(
        return_value=httpx.Response(
            403,
            json={
                "status": "error",
                "message": "This app hasn't been granted all required scopes to make this call.",
                "correlationId": "c",
                "category": "MISSING_SCOPES",
                "errors": [
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": ["crm.schemas.deals.read"]},
                    }
                ],
            },
        )
    )
    with pytest.raises(KindUnreadable) as caught:
        transport.get_json(PATH)
    assert caught.value.category == "MISSING_SCOPES"
    assert caught.value.scopes == ("crm.schemas.deals.read",)
    assert caught.value.status == 403


@respx.mock
def test_401_is_fatal_and_never_shows_the_token(transport: Transport) -> None:
    respx.get(BASE + PATH).mock(
        return_value=httpx.Response(
            401,
            json={
                "status": "error",
                "message": "Authentication credentials not found.",
                "category": "INVALID_AUTHENTICATION",
                "correlationId": "c",
            },
        )
    )
    with pytest.raises(HubSpotAuthError) as caught:
        transport.get_json(PATH)
    assert "INVALID_AUTHENTICATION" in str(caught.value)
    assert TOKEN not in str(caught.value)


@respx.mock
def test_the_token_is_sent_but_never_logged(fake_time: FakeTime) -> None:
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    try:
        route = respx.get(BASE + PATH).mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json={"results": []})]
        )
        transport = Transport(
            BASE, Secret(TOKEN), portal="acme", sleep=fake_time.sleep, clock=fake_time.clock
        )
        transport.get_json(PATH)
    finally:
        configure_logging("console", "warning")
    assert route.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["hubspot.request", "hubspot.retry", "hubspot.request"]
    assert TOKEN not in stream.getvalue()
    assert "Bearer" not in stream.getvalue()


@respx.mock
def test_reads_go_through_our_transport_and_return_raw_json(transport: Transport) -> None:
    unknown_field = {
        "name": "a",
        "label": "A",
        "type": "string",
        "fieldType": "text",
        "groupName": "g",
        "description": "",
        "options": [],
        "aFieldTheSdkDoesNotKnow": {"nested": [1, 2]},
    }
    route = respx.get(BASE + PATH, params={"archived": "false"}).mock(
        return_value=httpx.Response(200, json={"results": [unknown_field]})
    )
    results = HubSpotClient(transport).list_results(
        endpoints.PROPERTIES, {"object_type": "deals"}, {"archived": "false"}
    )
    assert results == [unknown_field]
    assert route.call_count == 1
    assert transport.api_calls == 1  # paced and counted by our layer


@respx.mock
def test_a_response_without_results_is_unreadable(transport: Transport) -> None:
    respx.get(BASE + "/crm/properties/2026-03/deals").mock(
        return_value=httpx.Response(200, json={"oops": True})
    )
    with pytest.raises(KindUnreadable, match="no 'results' list"):
        HubSpotClient(transport, {"properties": "2026-03"}).list_results(
            endpoints.PROPERTIES, {"object_type": "deals"}
        )


def test_the_rate_limiter_never_sends_more_than_its_limit_in_any_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(5, 10.0, clock=fake.clock, sleep=fake.sleep)
    sent = []
    for _ in range(23):
        limiter.acquire()
        sent.append(fake.now)
    for i, moment in enumerate(sent):
        in_window = [t for t in sent[: i + 1] if t > moment - 10.0]
        assert len(in_window) <= 5
    assert sent[-1] == pytest.approx(40.0)  # 23 requests at 5 per 10 s: the 21st waits until 40 s


@respx.mock
def test_retry_after_is_capped_and_may_be_a_date(transport: Transport, fake_time: FakeTime) -> None:
    respx.get(BASE + PATH).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "86400"}),
            httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}),
            httpx.Response(200, json={"results": []}),
        ]
    )
    transport.get_json(PATH)
    assert fake_time.sleeps == [120.0, 120.0]
    assert transport.rate_limit_capped == 2


@respx.mock
def test_every_5xx_is_retried(transport: Transport) -> None:
    route = respx.get(BASE + PATH).mock(
        side_effect=[httpx.Response(520), httpx.Response(501), httpx.Response(200, json={})]
    )
    assert transport.get_json(PATH) == {}
    assert route.call_count == 3


def json_log() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    return stream


def capped_events(stream: io.StringIO) -> list[dict[str, object]]:
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [e for e in events if e["event"] == "hubspot.rate_limit_capped"]


@respx.mock
def test_a_429_naming_an_hour_long_window_waits_ten_seconds_and_says_so(
    transport: Transport, fake_time: FakeTime
) -> None:
    stream = json_log()
    respx.get(BASE + PATH).mock(
        side_effect=[
            rate_limited(
                "TEN_SECONDLY_ROLLING",
                **{"X-HubSpot-RateLimit-Interval-Milliseconds": "3600000"},
            ),
            httpx.Response(200, json={"results": []}),
        ]
    )
    assert transport.get_json(PATH) == {"results": []}
    assert sum(fake_time.sleeps) == pytest.approx(10.0)  # not an hour
    assert transport.rate_limit_capped == 1
    [event] = capped_events(stream)
    assert event["header"] == "X-HubSpot-RateLimit-Interval-Milliseconds"
    assert (event["asked"], event["used"], event["portal"]) == (3600.0, 10.0, "acme")
    assert event["level"] == "warning"


@respx.mock
def test_an_hour_long_interval_on_a_spent_window_pauses_for_ten_seconds(
    transport: Transport, fake_time: FakeTime
) -> None:
    hour = {
        "X-HubSpot-RateLimit-Interval-Milliseconds": "3600000",
        "X-HubSpot-RateLimit-Remaining": "0",
    }
    route = respx.get(BASE + PATH).mock(
        return_value=httpx.Response(200, headers=hour, json={"results": []})
    )
    for _ in range(3):
        transport.get_json(PATH)
    assert route.call_count == 3
    # each answer says the window is spent (something else spends the budget): each pause is
    # the longest window HubSpot has, not the hour the header names
    assert fake_time.sleeps == pytest.approx([10.0, 10.0])
    assert transport.rate_limit_capped == 3


@respx.mock
def test_max_one_cannot_pace_the_run_at_one_call_per_ten_seconds(
    transport: Transport, fake_time: FakeTime
) -> None:
    stream = json_log()
    respx.get(BASE + PATH).mock(
        return_value=httpx.Response(
            200,
            headers={
                "X-HubSpot-RateLimit-Max": "1",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Remaining": "99",
            },
            json={"results": []},
        )
    )
    for _ in range(60):
        transport.get_json(PATH)
    assert transport.limiter.limit == RateLimitPolicy().min_requests_per_10s == 50
    # 60 calls at 50 per 10 s: one wait for the window, not ten minutes at one per 10 s
    assert fake_time.now == pytest.approx(10.1)
    assert transport.rate_limit_capped == 60
    events = capped_events(stream)
    assert [e["level"] for e in events] == ["warning"] + ["debug"] * 59  # said once, loudly
    assert (events[0]["header"], events[0]["asked"], events[0]["used"]) == (
        "X-HubSpot-RateLimit-Max",
        1.0,
        50.0,
    )


@respx.mock
def test_a_plausible_lower_max_is_followed_and_not_counted(
    transport: Transport, fake_time: FakeTime
) -> None:
    respx.get(BASE + PATH).mock(
        return_value=httpx.Response(
            200,
            headers={
                "X-HubSpot-RateLimit-Max": "6",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "1000",
            },
            json={},
        )
    )
    transport.get_json(PATH)
    assert transport.limiter.limit == 60  # 6 a second
    assert transport.rate_limit_capped == 0


def test_a_portal_configured_below_the_floor_keeps_its_own_limit() -> None:
    policy = RateLimitPolicy()
    assert policy.pace(1, 10_000, configured=20).used == 20
    assert policy.pace(1, 10_000, configured=5000).used == 50
    assert policy.pace(190, 10_000, configured=5000).capped is False
    assert policy.retry_after(86_400).used == 120.0
    assert policy.window(None).used == 10.0 and not policy.window(None).capped


def big_body(size: int) -> bytes:
    """A JSON body of about ``size`` bytes, shaped like a property list."""
    return json.dumps({"results": [{"name": "x", "description": "d" * size}]}).encode()


@respx.mock
@pytest.mark.parametrize(
    "how",
    [
        "declared",  # Content-Length says so: refused before a byte of the body is read
        "chunked",  # no Content-Length: counted while it arrives
        "gzip",  # small on the wire, large once decompressed: counted decompressed
    ],
)
def test_a_response_over_the_cap_is_unreadable_not_a_crash(how: str, fake_time: FakeTime) -> None:
    transport = Transport(
        BASE,
        Secret(TOKEN),
        portal="acme",
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        max_response_bytes=50_000,
    )
    body = big_body(60_000)
    if how == "declared":
        response = httpx.Response(200, content=body)
    elif how == "chunked":
        response = httpx.Response(
            200, content=iter([body[i : i + 4096] for i in range(0, len(body), 4096)])
        )
        assert "Content-Length" not in response.headers
    else:
        response = httpx.Response(
            200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"}
        )
        assert int(response.headers["Content-Length"]) < 50_000
    route = respx.get(BASE + PATH).mock(return_value=response)
    with pytest.raises(KindUnreadable) as caught:
        transport.get_json(PATH)
    assert caught.value.category == "RESPONSE_TOO_LARGE"
    assert str(caught.value) == (
        f"the response to {PATH} is larger than 0.0477 MB (max_response_mb): not read"
    )
    assert route.call_count == 1  # not retried: the next answer would be as large

    respx.get(BASE + PATH).mock(return_value=httpx.Response(200, content=big_body(40_000)))
    assert len(transport.get_json(PATH)["results"][0]["description"]) == 40_000


@respx.mock
def test_a_compressed_answer_under_the_cap_reads_as_before(transport: Transport) -> None:
    body = {"results": [{"name": "amount"}], "paging": {"next": {"after": "2"}}}
    respx.get(BASE + PATH).mock(
        return_value=httpx.Response(
            200,
            content=gzip.compress(json.dumps(body).encode()),
            headers={"Content-Encoding": "gzip", "X-HubSpot-RateLimit-Max": "190"},
        )
    )
    sent = transport.request("GET", PATH)
    assert sent.body == body
    assert sent.response.content == json.dumps(body).encode()
    assert sent.response.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert "Content-Encoding" not in sent.response.headers  # the body is held decompressed


@respx.mock
def test_a_429_on_a_read_exempt_from_the_burst_limit_waits_what_it_asks(
    transport: Transport, fake_time: FakeTime
) -> None:
    """Association labels and limits skip the limiter, which is what holds paced reads after a
    429: the exempt read itself waits the Retry-After, or the window when none is given."""
    route = respx.get(BASE + PATH).mock(
        side_effect=[
            rate_limited("TEN_SECONDLY_ROLLING", **{"Retry-After": "3"}),
            rate_limited("TEN_SECONDLY_ROLLING"),
            httpx.Response(200, json={"results": []}),
        ]
    )
    assert transport.get_json(PATH, exempt=True) == {"results": []}
    assert route.call_count == 3
    assert fake_time.sleeps[0] == pytest.approx(3.0)
    assert fake_time.sleeps[1] >= 10.0
