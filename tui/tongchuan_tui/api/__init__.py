"""The tsi wire protocol: TC3 signing, the async client, credentials, models and errors."""
