"""Link tokens never reach the access log: a token is a credential until it expires."""

import logging

from api.main import RedactLinkTokens, create_app


def test_access_log_redacts_link_tokens(caplog):
    create_app()  # installs the filter on uvicorn's access logger
    logger = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactLinkTokens) for f in logger.filters)
    token = "eyJpIjoiYWJjIiwiciI6ImFsaWNlIn0.awKZvg.t-srnW3MBH2UBIIGMkpCrL5k7yw"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", f"/r/{token}", "1.1", 200)
    assert token not in caplog.text
    assert "/r/<redacted>" in caplog.text
