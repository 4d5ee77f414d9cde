"""Talent search: employers find consenting learners by skills their credentials verify."""
