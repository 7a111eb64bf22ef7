"""Writers hitting the API at the same moment, over real HTTP with real database connections.

Every request gets a clean answer (200, 409 or 412), never a 500, and the notice's
versions and revisions stay consecutive: no change is lost and none is counted twice.
"""

import threading

import httpx
import pytest

from tests.factories import add_notice, add_token, add_user, reload
from tests.live_server import serving

WRITERS = 8


@pytest.fixture
def server(app):
    with serving(app) as base_url:
        yield base_url


@pytest.fixture
def bearer(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def at_once(count: int, request) -> list[httpx.Response]:
    """Run request(i) in `count` threads released together; the responses in order of i."""
    start = threading.Barrier(count)
    responses: list[httpx.Response | BaseException | None] = [None] * count

    def run(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            try:
                responses[index] = request(client, index)
            except BaseException as error:  # reported below, with the others
                responses[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failures = [response for response in responses if not isinstance(response, httpx.Response)]
    assert not failures, failures
    return responses  # type: ignore[return-value]


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def assert_consecutive_history(ctx, uid: str, changes: int) -> None:
    notice = reload(ctx, uid)
    assert notice.version == 1 + changes
    assert [revision.version for revision in notice.revisions] == list(range(1, changes + 2))


def test_simultaneous_changes_of_one_notice_all_succeed_one_after_the_other(ctx, server, bearer):
    uid = add_notice(ctx).uid
    responses = at_once(
        WRITERS,
        lambda client, i: client.patch(
            f"{server}/api/v1/notices/{uid}", headers=bearer, json={"summary": f"change {i}", "note": f"writer {i}"}
        ),
    )
    assert statuses(responses) == [200] * WRITERS, [response.text for response in responses]
    assert sorted(response.json()["version"] for response in responses) == list(range(2, WRITERS + 2))
    assert_consecutive_history(ctx, uid, WRITERS)


def test_simultaneous_changes_of_the_same_version_let_exactly_one_through(ctx, server, bearer):
    uid = add_notice(ctx).uid
    responses = at_once(
        WRITERS,
        lambda client, i: client.patch(
            f"{server}/api/v1/notices/{uid}",
            headers={**bearer, "If-Match": '"1"'},
            json={"summary": f"change {i}", "note": f"writer {i}"},
        ),
    )
    assert sorted(statuses(responses)) == [200] + [412] * (WRITERS - 1), [response.text for response in responses]
    winner = next(response for response in responses if response.status_code == 200)
    assert winner.headers["etag"] == '"2"'
    assert reload(ctx, uid).summary == winner.json()["summary"]
    assert_consecutive_history(ctx, uid, 1)


def test_simultaneous_cancels_and_changes_get_200_or_409(ctx, server, bearer):
    uid = add_notice(ctx).uid

    def cancel_or_change(client, index):
        if index % 2:
            return client.post(
                f"{server}/api/v1/notices/{uid}/cancel", headers=bearer, json={"reason": f"reason {index}"}
            )
        return client.patch(
            f"{server}/api/v1/notices/{uid}",
            headers=bearer,
            json={"summary": f"change {index}", "note": f"writer {index}"},
        )

    responses = at_once(WRITERS, cancel_or_change)
    assert set(statuses(responses)) <= {200, 409}, [response.text for response in responses]
    cancels = [response for index, response in enumerate(responses) if index % 2 and response.status_code == 200]
    assert len(cancels) == 1
    # Changes after the cancellation were refused; the ones before it each made a version.
    assert_consecutive_history(ctx, uid, statuses(responses).count(200))


def test_simultaneous_creates_and_changes_by_several_tokens_never_fail(ctx, server, bearer):
    add_user(ctx, "second@example.org")
    second = {"Authorization": f"Bearer {add_token(ctx, 'second@example.org')}"}
    uid = add_notice(ctx).uid
    new = {"title": "Einsteinweg closed", "category": "road-closure", "starts_at": "2026-12-01T07:00"}

    def write(client, index):
        token = bearer if index % 2 else second
        if index % 3 == 0:
            return client.post(f"{server}/api/v1/notices", headers=token, json=new)
        return client.patch(
            f"{server}/api/v1/notices/{uid}",
            headers=token,
            json={"summary": f"change {index}", "note": f"writer {index}"},
        )

    responses = at_once(WRITERS, write)
    expected = [201 if index % 3 == 0 else 200 for index in range(WRITERS)]
    assert statuses(responses) == expected, [response.text for response in responses]
    assert_consecutive_history(ctx, uid, expected.count(200))
