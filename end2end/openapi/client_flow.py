"""What a client generated from Kiln's OpenAPI document can do, start to end.

Run by end2end/tests/openapi.test.mjs with the generated package
(`kiln_client`, made by openapi-python-client from /api/v1/openapi.json) on
PYTHONPATH: register, sign in, make an API token, then with the token alone
make a group, a project and a workflow, start a run, and wait for it to
succeed. Also reads an error answer through the generated ErrorBody. Prints
`run N success` at the end; any surprise exits non-zero with what happened.
"""

import sys
import time

from kiln_client import AuthenticatedClient, Client
from kiln_client.api.account import create_token
from kiln_client.api.auth import login, register
from kiln_client.api.groups import create_group
from kiln_client.api.projects import create_project
from kiln_client.api.runs import get_run, trigger_run
from kiln_client.api.workflows import save_workflow
from kiln_client.models import (
    Credentials,
    ErrorBody,
    NewGroupBody,
    NewProjectBody,
    NewTokenBody,
    TriggerBody,
    TriggerBodyParams,
    WorkflowSource,
)

WORKFLOW = """\
params:
  greeting:
    type: string
    default: hello
tasks:
  say:
    run: echo "{{ params.greeting }} from a generated client"
  after:
    needs: [say]
    run: echo done
"""


def expect(response, status, what):
    if response.status_code != status:
        sys.exit(f"{what}: expected {status}, got {response.status_code}: {response.content!r}")
    return response.parsed


def main(base_url: str) -> None:
    # Browser-like writes need a same-origin Origin; a script sends it.
    origin = {"Origin": base_url}
    session = Client(base_url=base_url, headers=origin)
    credentials = Credentials(username="genclient", password="correct horse battery")
    expect(register.sync_detailed(client=session, body=credentials), 201, "register")
    expect(login.sync_detailed(client=session, body=credentials), 200, "login")
    token = expect(
        create_token.sync_detailed(client=session, body=NewTokenBody(name="generated", scope="write")),
        201,
        "create token",
    )

    # From here on, the token only: no cookie, no Origin.
    api = AuthenticatedClient(base_url=base_url, token=token.secret)
    bad = expect(create_group.sync_detailed(client=api, body=NewGroupBody(slug="Not A Slug")), 422, "bad group")
    if not isinstance(bad, ErrorBody) or bad.error.field != "slug":
        sys.exit(f"a bad slug's error names the field: {bad!r}")
    group = expect(create_group.sync_detailed(client=api, body=NewGroupBody(slug="generated")), 201, "group")
    project = expect(
        create_project.sync_detailed(client=api, body=NewProjectBody(group_id=group.id, slug="client")),
        201,
        "project",
    )
    expect(
        save_workflow.sync_detailed(project.id, "hello", client=api, body=WorkflowSource(source=WORKFLOW)),
        200,
        "save workflow",
    )
    params = TriggerBodyParams()
    params["greeting"] = "hi"
    run = expect(
        trigger_run.sync_detailed(project.id, "hello", client=api, body=TriggerBody(params=params)),
        201,
        "start run",
    )
    for _ in range(300):
        now = expect(get_run.sync_detailed(run.id, client=api), 200, "get run")
        if str(now.state) != "running":
            break
        time.sleep(0.1)
    state = str(now.state)
    if state != "success":
        sys.exit(f"run {run.id} ended {state}")
    print(f"run {run.id} {state}")


if __name__ == "__main__":
    main(sys.argv[1])
