"""The conversation graph: state, run-time settings, nodes and the builder."""
