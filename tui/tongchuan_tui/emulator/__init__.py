"""A local emulator of the tsi service, for tests and demos without an account. Not the real service."""
