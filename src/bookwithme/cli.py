"""The ``bookwithme`` command (SPEC section 4)."""

from __future__ import annotations

import os
import sys
import threading
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError

from bookwithme.config import DEFAULT_HOST, DEFAULT_PORT, Settings
from bookwithme.db import make_engine, make_session_factory, session_scope
from bookwithme.errors import DomainError
from bookwithme.scheduling.schedules import TimeZoneName
from bookwithme.validation import Email, Label, Locale, Name, Password

app = typer.Typer(
    help="bookwithme: a self-hostable personal booking page.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal access tokens for the API.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

DEFAULT_ORGANIZATION_NAME = "My organization"


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def checked(kind: Any, value: object, label: str) -> Any:
    """Validate a command-line value with the same rules as the API."""
    try:
        result = TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise fail(f"{label}: {message}", 2) from None
    return result


def _session_factory(settings: Settings):  # type: ignore[no-untyped-def]
    """Sessions on an up-to-date database: like ``serve``, every command that reads or writes
    applies the migrations first, so ``users create`` works on a fresh install too."""
    from bookwithme import migrate

    migrate.upgrade(settings.resolved_database_url, configure_logging=False)
    return make_session_factory(make_engine(settings.resolved_database_url))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration that has not run yet."""
    from bookwithme import migrate

    migrate.upgrade(Settings().resolved_database_url)
    typer.echo("The database is up to date.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[
        int,
        typer.Option(
            help="Port to listen on (and of the links written, when BASE_URL is not set).",
            min=1,
            max=65535,
        ),
    ] = DEFAULT_PORT,
    workers: Annotated[
        int, typer.Option(help="Server processes, sharing only the database.", min=1, max=64)
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (turn off behind a proxy that logs them already).",
        ),
    ] = True,
) -> None:
    """Apply migrations, then serve the web app and the API. Without BASE_URL, links (manage,
    page, private links) point at http://HOST:PORT."""
    import uvicorn

    from bookwithme import migrate, serving
    from bookwithme.app import create_app

    settings = Settings().for_listener(host, port)
    if workers > 1:
        # Each process builds its settings from the environment: it must say the same.
        os.environ["BOOKWITHME_BASE_URL"] = settings.base_url
    migrate.upgrade(settings.resolved_database_url)
    # Made (or read) once here, so every process signs with the same key.
    settings.resolved_secret_key  # noqa: B018
    if workers > 1:
        try:
            serving.check_free(host, port)
        except serving.AddressInUse as exc:
            raise fail(str(exc)) from None
    typer.echo(
        f"bookwithme is serving {settings.base_url} (listening on {host}:{port}, "
        f"{workers} process{'es' if workers > 1 else ''})"
    )
    if not settings.base_url_given and settings.base_url.startswith("http://localhost:"):
        typer.echo(
            "Links in emails and pages point at this machine; set BOOKWITHME_BASE_URL to the "
            "address people open."
        )
    # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 by
    # itself. The client address is worked out in one place, from TRUSTED_PROXIES
    # (web/deps.py client_address), and the scheme of links comes from BASE_URL.
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": False,
        "log_level": "info",
        "access_log": access_log,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Each process builds its own app from the same environment, on a socket of its own.
    status = serving.serve_processes(options, workers)
    if status:
        raise typer.Exit(status)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Do what is due, then stop.")] = False,
) -> None:
    """Run background jobs: emails, reminders, webhooks, calendar sync and write-back (for
    deployments that run the worker apart from `serve`; set BOOKWITHME_EMBEDDED_WORKER=false
    there). Any number may run against one PostgreSQL database."""
    from bookwithme.notifications.delivery import SMTPSettingsError
    from bookwithme.worker import Worker

    settings = Settings()
    try:
        background = Worker(_session_factory(settings), settings)
    except SMTPSettingsError as exc:
        raise fail(str(exc)) from None
    if settings.smtp_url is None:
        typer.echo("No SMTP_URL: emails stay in the outbox; every other job runs.")
    if once:
        typer.echo(f"Ran {background.run_until_idle()} job(s).")
        return
    lanes = ", ".join(sorted(background.lanes))
    typer.echo(f"Running background jobs ({lanes}); Ctrl-C stops.")
    background.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        typer.echo("Stopping…")
    finally:
        background.stop()


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's email address (their sign-in).")],
    name: Annotated[str, typer.Option(help="The user's name, shown to invitees.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    time_zone: Annotated[str, typer.Option(help="IANA time zone of the working hours.")] = "UTC",
    plan: Annotated[
        str | None, typer.Option(help="Subscription plan (default: the organization's).")
    ] = None,
    locale: Annotated[str, typer.Option(help="Language of emails: en or fr.")] = "en",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user with the default schedule and meeting types. The first user of a new
    installation also creates the organization and is always an administrator."""
    from bookwithme.accounts import service as accounts

    email = checked(Email, email, "email")
    name = checked(Name, name, "--name")
    time_zone = checked(TimeZoneName, time_zone, "--time-zone")
    locale = checked(Locale, locale, "--locale")
    if plan is not None:
        plan = checked(Name, plan, "--plan")
    password: str | None = None
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        password = checked(Password, line, "password")
    settings = Settings()
    try:
        with session_scope(_session_factory(settings), write=True) as session:
            first = not accounts.has_any_user(session)
            organization = accounts.get_or_create_organization(session, DEFAULT_ORGANIZATION_NAME)
            user = accounts.create_user(
                session,
                organization,
                email=email,
                name=name,
                time_zone=time_zone,
                password=password,
                is_admin=admin or first,
                plan=plan,
                locale=locale,
            )
            summary = f"Created user {user.email}"
            if user.is_admin:
                summary += (
                    " (administrator" + (", as the first user" if first and not admin else "") + ")"
                )
    except DomainError as exc:
        raise fail(exc.message) from None
    typer.echo(summary)
    if password is None:
        typer.echo("No password was set: this user signs in once one is set (--password-stdin).")


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create a personal access token; it is printed once, as the last line."""
    from bookwithme.accounts import service as accounts

    label = checked(Label, label, "--label")
    settings = Settings()
    try:
        with session_scope(_session_factory(settings), write=True) as session:
            user = accounts.user_by_email(session, email)
            _, token = accounts.create_api_token(session, user, label)
    except DomainError as exc:
        raise fail(exc.message) from None
    typer.echo(f"Token for {user.email}, shown only once. Send it as 'Authorization: Bearer …':")
    typer.echo(token)


admin_app = typer.Typer(
    help="Turn personal bookings on or off, like the seeds' Get-/Set-OrganizationConfig and "
    "Get-/Set-CASMailbox.",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")

APPS_ENABLED = {"true": True, "false": False, "default": None}
POLICIES = {"allow-list": "EnforceAllowList", "block-list": "EnforceBlockList", "none": None}
AppsEnabledOpt = Annotated[
    str | None, typer.Option("--apps-enabled", help="true, false or default (EwsEnabled).")
]
PolicyOpt = Annotated[str | None, typer.Option("--policy", help="allow-list, block-list or none.")]
AllowAdd = Annotated[list[str] | None, typer.Option("--allow-list-add", help="App id to add.")]
AllowRemove = Annotated[
    list[str] | None, typer.Option("--allow-list-remove", help="App id to remove.")
]
BlockAdd = Annotated[list[str] | None, typer.Option("--block-list-add", help="App id to add.")]
BlockRemove = Annotated[
    list[str] | None, typer.Option("--block-list-remove", help="App id to remove.")
]


def format_list(values: dict[str, object]) -> str:
    """PowerShell's Format-List: one ``Name : Value`` a line, the colons aligned."""
    width = max(len(name) for name in values)

    def shown(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, list | tuple):
            return "{" + ", ".join(str(v) for v in value) + "}"
        return str(value)

    return "\n".join(f"{name.ljust(width)} : {shown(value)}" for name, value in values.items())


def _policy_changes(
    apps_enabled: str | None,
    policy: str | None,
    allow_add: list[str] | None,
    allow_remove: list[str] | None,
    block_add: list[str] | None,
    block_remove: list[str] | None,
) -> dict[str, object]:
    changes: dict[str, object] = {}
    if apps_enabled is not None:
        if apps_enabled.lower() not in APPS_ENABLED:
            raise fail("--apps-enabled: use true, false or default", 2)
        changes["apps_enabled"] = APPS_ENABLED[apps_enabled.lower()]
    if policy is not None:
        if policy.lower() not in POLICIES:
            raise fail("--policy: use allow-list, block-list or none", 2)
        changes["app_access_policy"] = POLICIES[policy.lower()]
    if allow_add or allow_remove:
        changes["app_allow_list"] = {"add": allow_add or [], "remove": allow_remove or []}
    if block_add or block_remove:
        changes["app_block_list"] = {"add": block_add or [], "remove": block_remove or []}
    return changes


def _validated(model: Any, changes: dict[str, object]) -> Any:
    try:
        return model.model_validate(changes)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise fail(f"{where}: {first['msg'].removeprefix('Value error, ')}", 2) from None


def _org_fields(org: Any) -> dict[str, object]:
    return {
        "Name": org.name,
        "AppsEnabled": org.apps_enabled,
        "AppAccessPolicy": org.app_access_policy,
        "AppAllowList": org.app_allow_list,
        "AppBlockList": org.app_block_list,
        "EligiblePlans": org.eligible_plans,
        "DefaultPlan": org.default_plan,
        "AllowSignup": org.allow_signup,
    }


def _user_fields(user: Any) -> dict[str, object]:
    return {
        "Identity": user.email,
        "Name": user.name,
        "Plan": user.plan,
        "IsAdmin": user.is_admin,
        "Active": user.active,
        "AppsEnabled": user.apps_enabled,
        "AppAccessPolicy": user.app_access_policy,
        "AppAllowList": user.app_allow_list,
        "AppBlockList": user.app_block_list,
        "PersonalBookingsEnabled": user.personal_bookings.enabled,
        "PersonalBookingsReasons": user.personal_bookings.reasons,
    }


def _the_organization(session: Any) -> Any:
    from bookwithme.accounts import service as accounts

    organization = accounts.the_organization(session)
    if organization is None:
        raise fail("There is no organization yet: create the first user (or open /setup).")
    return organization


@admin_app.command("get-org")
def admin_get_org() -> None:
    """Show the organization's settings (Get-OrganizationConfig | Format-List)."""
    from bookwithme.admin import service

    with session_scope(_session_factory(Settings())) as session:
        typer.echo(format_list(_org_fields(service.org_out(_the_organization(session)))))


@admin_app.command("set-org")
def admin_set_org(
    apps_enabled: AppsEnabledOpt = None,
    policy: PolicyOpt = None,
    allow_list_add: AllowAdd = None,
    allow_list_remove: AllowRemove = None,
    block_list_add: BlockAdd = None,
    block_list_remove: BlockRemove = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="The plan new users get (default_plan).")
    ] = None,
) -> None:
    """Change the organization's settings (Set-OrganizationConfig); prints the result."""
    from bookwithme.admin import service
    from bookwithme.admin.schemas import OrgPatch

    changes = _policy_changes(
        apps_enabled, policy, allow_list_add, allow_list_remove, block_list_add, block_list_remove
    )
    if plan is not None:
        changes["default_plan"] = plan
    patch = _validated(OrgPatch, changes)
    try:
        with session_scope(_session_factory(Settings()), write=True) as session:
            result = service.update_org(session, _the_organization(session), patch, "cli", None)
    except DomainError as exc:
        raise fail(exc.message) from None
    typer.echo(format_list(_org_fields(result)))


@admin_app.command("get-user")
def admin_get_user(email: Annotated[str, typer.Argument(help="The user's email.")]) -> None:
    """Show a user's settings and whether personal bookings is on (Get-CASMailbox)."""
    from bookwithme.admin import service

    try:
        with session_scope(_session_factory(Settings())) as session:
            organization = _the_organization(session)
            user = service.get_user(session, organization, email)
            out = service.user_out(organization, user)
    except DomainError as exc:
        raise fail(exc.message) from None
    typer.echo(format_list(_user_fields(out)))


@admin_app.command("set-user")
def admin_set_user(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    apps_enabled: AppsEnabledOpt = None,
    policy: PolicyOpt = None,
    allow_list_add: AllowAdd = None,
    allow_list_remove: AllowRemove = None,
    block_list_add: BlockAdd = None,
    block_list_remove: BlockRemove = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Subscription plan.")] = None,
) -> None:
    """Change a user's settings (Set-CASMailbox); prints the result."""
    from bookwithme.admin import service
    from bookwithme.admin.schemas import UserPatch

    changes = _policy_changes(
        apps_enabled, policy, allow_list_add, allow_list_remove, block_list_add, block_list_remove
    )
    if plan is not None:
        changes["plan"] = plan
    patch = _validated(UserPatch, changes)
    try:
        with session_scope(_session_factory(Settings()), write=True) as session:
            organization = _the_organization(session)
            user = service.get_user(session, organization, email)
            service.update_user(session, organization, user, patch, "cli", None)
            out = service.user_out(organization, user)
    except DomainError as exc:
        raise fail(exc.message) from None
    typer.echo(format_list(_user_fields(out)))


@app.command()
def demo() -> None:
    """Fill an empty database with a demo organizer, meeting types, busy time and bookings."""
    from bookwithme import demo as demo_data
    from bookwithme.models import utcnow

    settings = Settings()
    try:
        with session_scope(_session_factory(settings), write=True) as session:
            made = demo_data.fill(session, settings, utcnow())
    except DomainError as exc:
        raise fail(exc.message) from None
    typer.echo("The demo is ready. Sign in with:")
    typer.echo(f"  email:    {made.email}")
    typer.echo(f"  password: {made.password}")
    typer.echo(f"Public page:  {made.page_url}")
    typer.echo(f"Private link: {made.private_link_url}")
    typer.echo(f"{made.bookings} bookings were made; their emails are in the outbox.")


def main() -> None:
    app()
