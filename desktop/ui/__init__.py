"""Qt only: windows, panes, item models and the bridges that adapt the core into signals."""
