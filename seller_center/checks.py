from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secrets_are_set(app_configs, **kwargs):
    """Refuse to deploy with the development defaults of the secrets."""
    errors = []
    if settings.SECRET_KEY == settings.DEV_SECRET:
        errors.append(Error("SECRET_KEY is the development default.", hint="Set SECRET_KEY.", id="sc.E001"))
    for name, default in (("STOREFRONT_SECRET", "dev-storefront-secret"), ("CARRIER_SECRET", "dev-carrier-secret")):
        if getattr(settings, name) == default:
            errors.append(Error(f"{name} is the development default.", hint=f"Set {name}.", id="sc.E002"))
    return errors
