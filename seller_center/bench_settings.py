"""Settings of bench_tracking --async-commit: the project's settings with the carrier feed's
asynchronous commit switched on (see shipping.tracking.ingest)."""

from seller_center.settings import *  # noqa: F403

CARRIER_FEED_ASYNC_COMMIT = True
