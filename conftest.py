import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); set DATABASE_URL=postgres://...")


@pytest.fixture
def seller(db):
    from shops.tests.factories import MembershipFactory

    return MembershipFactory().user


@pytest.fixture
def shop(seller):
    return seller.memberships.get().shop


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client
