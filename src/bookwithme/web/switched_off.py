"""Why personal bookings is off for someone, in words for the person reading it.

``admin.policy`` decides and names each cause; the API words them in the seeds' terms
(``apps_enabled``, ``EnforceAllowList``). The pages say instead *who* turned it off: the
organization for everyone, an administrator for this user, an allow or block list, or the
user's plan, in the organizer's words or the administrator's, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable

from bookwithme.admin.policy import Cause

Gettext = Callable[[str], str]


def for_organizer(cause: Cause, gettext: Gettext) -> str:
    """The cause as the organizer reads it on their start page: who turned it off."""
    # One gettext call for each text, so that message extraction finds them all.
    at_organization = cause.level == "organization"
    if cause.kind == "apps_off" and at_organization:
        return gettext("Your organization has turned personal bookings off for everyone.")
    if cause.kind == "apps_off":
        return gettext("An administrator has turned personal bookings off for your account.")
    if cause.kind == "not_allowed" and at_organization:
        return gettext(
            "Your organization allows only the apps on its allow list, and personal bookings "
            "is not on it."
        )
    if cause.kind == "not_allowed":
        return gettext(
            "An administrator allowed only some apps for your account, and personal bookings "
            "is not one of them."
        )
    if cause.kind == "blocked" and at_organization:
        return gettext("Your organization has put personal bookings on its block list.")
    if cause.kind == "blocked":
        return gettext("An administrator has blocked personal bookings for your account.")
    if cause.kind == "deactivated":
        return gettext("Your account is deactivated.")
    return gettext(
        "Your plan, %(plan)s, does not include personal bookings. Ask your administrator."
    ) % {"plan": cause.plan}


def for_admin(cause: Cause, gettext: Gettext) -> str:
    """The cause as an administrator reads it on the settings pages, naming the switch."""
    at_organization = cause.level == "organization"
    if cause.kind == "apps_off" and at_organization:
        return gettext("Apps are turned off for the whole organization.")
    if cause.kind == "apps_off":
        return gettext("Apps are turned off for this user.")
    if cause.kind == "not_allowed" and at_organization:
        return gettext(
            "The organization allows only the apps in its allow list, and PersonalBookings "
            "is not in it."
        )
    if cause.kind == "not_allowed":
        return gettext(
            "This user may use only the apps in their allow list, and PersonalBookings is "
            "not in it."
        )
    if cause.kind == "blocked" and at_organization:
        return gettext("PersonalBookings is in the organization's block list.")
    if cause.kind == "blocked":
        return gettext("PersonalBookings is in this user's block list.")
    if cause.kind == "deactivated":
        return gettext("The user is deactivated.")
    return gettext("The plan “%(plan)s” is not one of the organization's eligible plans.") % {
        "plan": cause.plan
    }
