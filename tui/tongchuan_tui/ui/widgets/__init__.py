"""The interpreter's widgets: transcript panes, stats pane and level meter, header and status line."""
