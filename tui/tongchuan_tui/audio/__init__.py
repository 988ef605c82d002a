"""Audio inputs (microphone, file, stdin, URL), all yielding 16 kHz mono s16le, and packet chunking."""
