"""Stackable pathways to larger qualifications, progress, CLR awards, credit and articulation."""
