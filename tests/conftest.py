from tests.dbfixtures import *  # noqa: F403
