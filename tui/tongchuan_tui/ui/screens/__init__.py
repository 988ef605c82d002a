"""Modal screens over the transcript: help, device picker, export format, error dialog."""
