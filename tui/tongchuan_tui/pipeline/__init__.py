"""The live pipeline: scheduler, transcript assembly, stats, and the session that wires them to sinks."""
