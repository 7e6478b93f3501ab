"""A member's language: saved on their profile (shops.MemberProfile), carried in their session so
no page reads it again (seller_center.middleware.MemberLanguageMiddleware activates it), and used
for the emails they are sent. Without one, the browser's Accept-Language (or the switcher's
cookie, for someone not logged in) decides, through Django's LocaleMiddleware."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .models import MemberProfile

SESSION_KEY = "member_language"


def codes():
    return [code for code, _ in settings.LANGUAGES]


def valid(language):
    return language in codes()


def member_language(user):
    """The member's chosen language code, or "" (the browser's)."""
    return MemberProfile.objects.filter(user=user).values_list("language", flat=True).first() or ""


def set_member_language(*, user, language, session=None):
    """Save the member's language ("" for the browser's) and put it in their current session."""
    if language and not valid(language):
        raise ValueError(f"unknown language {language!r}")
    MemberProfile.objects.update_or_create(user=user, defaults={"language": language})
    if session is not None:
        remember(session, language)


def remember(session, language):
    if language:
        session[SESSION_KEY] = language
    else:
        session.pop(SESSION_KEY, None)


@receiver(user_logged_in, dispatch_uid="shops.language.on_login")
def _on_login(sender, request, user, **kwargs):
    """One read at login; every page after it takes the language from the session."""
    if request is not None and hasattr(request, "session"):
        remember(request.session, member_language(user))
