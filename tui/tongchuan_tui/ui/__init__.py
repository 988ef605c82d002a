"""The Textual interpreter UI: the only package that imports Textual."""
