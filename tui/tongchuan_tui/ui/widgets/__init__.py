"""The interpreter's widgets: transcript panes, the stats pane with its level meter, header and status line."""
