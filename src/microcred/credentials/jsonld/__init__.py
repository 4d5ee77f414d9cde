"""JSON-LD processing that never touches the network."""
