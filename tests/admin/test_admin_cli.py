"""`bookwithme admin …`: the seeds' PowerShell cmdlets, printed in the Format-List style."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import create_account
from tests.factories import run_cli as run

PB = "PersonalBookings"


def fields(output: str) -> dict[str, str]:
    return {
        k.strip(): v.strip()
        for k, _, v in (line.partition(" : ") for line in output.splitlines())
        if _
    }


def test_the_seeds_walkthrough(
    cli_env: None, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    adam = create_account(session_factory, "adam@contoso.com", name="Adam")
    # Get-OrganizationConfig | Format-List EwsEnabled, EwsApplicationAccessPolicy, Ews*List
    org = run("admin", "get-org")
    assert org.exit_code == 0
    assert fields(org.output)["AppsEnabled"] == "" and fields(org.output)["AppAllowList"] == "{}"
    assert "AppAccessPolicy : " in org.output  # names padded so the colons line up

    # Set-OrganizationConfig -EwsEnabled:$false turns it off for everyone.
    assert (
        fields(run("admin", "set-org", "--apps-enabled", "false").output)["AppsEnabled"] == "False"
    )
    assert (
        client.get("/api/v1/me", headers=adam.headers).json()["personal_bookings"]["enabled"]
        is False
    )
    run("admin", "set-org", "--apps-enabled", "default")

    # EnforceAllowList: @{Add=…} on, @{Remove=…} off.
    run("admin", "set-org", "--policy", "allow-list")
    assert (
        client.get("/api/v1/me", headers=adam.headers).json()["personal_bookings"]["enabled"]
        is False
    )
    added = fields(run("admin", "set-org", "--allow-list-add", PB).output)
    assert added["AppAllowList"] == "{PersonalBookings}"
    assert (
        client.get("/api/v1/me", headers=adam.headers).json()["personal_bookings"]["enabled"]
        is True
    )

    # Set-CASMailbox -Identity adam -EwsBlockList @{Add=…} with EnforceBlockList: off for Adam only.
    user = fields(
        run(
            "admin",
            "set-user",
            "adam@contoso.com",
            "--policy",
            "block-list",
            "--block-list-add",
            PB,
        ).output
    )
    assert user["PersonalBookingsEnabled"] == "False"
    assert (
        user["PersonalBookingsReasons"]
        == f"{{The access policy of this user is EnforceBlockList and {PB} is in its block list}}"
    )
    user = fields(
        run(
            "admin", "set-user", "adam@contoso.com", "--block-list-remove", PB, "--plan", "E3"
        ).output
    )
    assert (user["PersonalBookingsEnabled"], user["Plan"]) == ("True", "E3")
    assert (
        fields(run("admin", "get-user", "ADAM@contoso.com").output)["Identity"]
        == "adam@contoso.com"
    )

    log = client.get(
        "/api/v1/admin/audit-log",
        headers=create_account(session_factory, "root@contoso.com", is_admin=True).headers,
    ).json()
    assert {e["actor"] for e in log["items"]} == {"cli"} and len(log["items"]) == 6


def test_mistakes_are_explained(cli_env: None, session_factory: sessionmaker[Session]) -> None:
    create_account(session_factory, "adam@contoso.com", name="Adam")
    cases = [
        (("admin", "set-org", "--apps-enabled", "maybe"), "use true, false or default"),
        (("admin", "set-org", "--policy", "everything"), "use allow-list, block-list or none"),
        (("admin", "set-org", "--allow-list-add", "has space"), "app_allow_list"),
        (("admin", "get-user", "nobody@contoso.com"), "No user with the email address"),
        (("admin", "set-user", "adam@contoso.com", "--plan", ""), "plan"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)


def test_set_org_plan_is_the_plan_new_users_get(
    cli_env: None, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "adam@contoso.com", name="Adam")
    changed = run("admin", "set-org", "--plan", "E5")
    assert changed.exit_code == 0, changed.output
    assert fields(changed.output)["DefaultPlan"] == "E5"
    created = run("users", "create", "megan@contoso.com", "--name", "Megan")
    assert created.exit_code == 0, created.output
    assert fields(run("admin", "get-user", "megan@contoso.com").output)["Plan"] == "E5"
    refused = run("admin", "set-org", "--plan", "")
    assert refused.exit_code != 0 and "default_plan" in refused.output
