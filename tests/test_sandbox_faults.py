"""The sandbox's declared faults do what tests rely on: the N-th request, edits, actions, holds."""

from __future__ import annotations

import threading
import time

import requests

from sandbox_api import CRMAPI, crm
from sandbox_api.server import SandboxServer

AUTH = (crm.USERNAME, crm.PASSWORD)


def get(sandbox, path: str, **params) -> requests.Response:
    return requests.get(f"{sandbox.crm_url}{path}", params=params, auth=AUTH, timeout=30)


def test_a_fault_after_n_requests_fires_on_the_next_matching_one_only(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    sandbox.faults.fail(500, api="crm", path="/contacts", after=2)

    assert get(sandbox, "/deals").status_code == 200  # another path: not counted
    codes = [get(sandbox, "/contacts").status_code for _ in range(4)]
    assert codes == [200, 200, 500, 200]


def test_an_edit_drops_keys_from_answers_to_requests_carrying_the_query(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    sandbox.faults.edit(drop=["data.total_count"], api="crm", query={"per_page": "1"})

    assert "total_count" not in get(sandbox, "/contacts", per_page=1).json()["data"]
    total = get(sandbox, "/contacts", per_page=2).json()["data"]["total_count"]

    sandbox.faults.edit(increase={"data.total_count": 1000}, api="crm", query={"per_page": "3"})
    assert get(sandbox, "/contacts", per_page=3).json()["data"]["total_count"] == total + 1000


def test_an_edit_changes_the_query_the_api_sees(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    sandbox.faults.edit(set_query={"page": "1"}, api="crm")
    assert get(sandbox, "/contacts", page=2, per_page=1).json()["data"]["page"] == 1

    sandbox.faults.clear()
    sandbox.faults.edit(set_query={"page": None}, api="crm")  # dropped: the API's default
    assert get(sandbox, "/contacts", page=3, per_page=1).json()["data"]["page"] == 1


def test_an_action_runs_once_right_after_the_answer_it_follows(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    ran: list[int] = []
    sandbox.faults.then(lambda: ran.append(len(sandbox.log)), api="crm", path="/contacts", after=1)

    seen = []
    for _ in range(3):
        get(sandbox, "/contacts")
        seen.append(list(ran))
    # Once, after the 2nd answer was built and before it was logged (the log holds the 1st).
    assert seen == [[], [1], [1]]


def test_a_hold_ends_when_released(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    hold = sandbox.faults.slow(60, api="crm", path="/contacts")
    answered: list[int] = []
    request = threading.Thread(
        target=lambda: answered.append(get(sandbox, "/contacts").status_code)
    )
    request.start()
    time.sleep(0.3)
    assert answered == []  # still held

    started = time.monotonic()
    hold.release()
    request.join(30)
    assert answered == [200]
    assert time.monotonic() - started < 30  # not the 60 s the hold allowed


def test_a_client_hanging_up_is_not_reported_as_an_error_of_the_server(capfd):
    """A tap stopped mid-answer breaks the pipe: quiet. Anything else keeps its traceback."""
    server = SandboxServer([CRMAPI(size=1)])
    try:
        for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise error
            except ConnectionError:
                server._httpd.handle_error(None, ("127.0.0.1", 1))
        assert capfd.readouterr().err == ""
        try:
            raise ValueError("a bug in the fake")
        except ValueError:
            server._httpd.handle_error(None, ("127.0.0.1", 1))
        assert "ValueError: a bug in the fake" in capfd.readouterr().err
    finally:
        server._httpd.server_close()
