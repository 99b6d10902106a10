from tests.dbfixtures import *  # noqa: F403
from tests.redisfixture import redis_url  # noqa: F401
