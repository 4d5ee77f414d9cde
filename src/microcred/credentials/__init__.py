"""Open Badges 3.0 credentials: documents, keys, DIDs, proofs, status lists, baking."""
