"""LTI 1.3 (LTI Core 1.3 + LTI Advantage): microcred as a tool inside an organisation's LMS."""
