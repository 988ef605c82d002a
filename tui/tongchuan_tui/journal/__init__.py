"""The session journal (JSONL), its reader, exports, the sessions list and audio recording."""
