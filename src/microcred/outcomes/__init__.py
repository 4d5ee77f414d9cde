"""Programme outcomes: learners' employment reports and the issuer's outcome KPIs."""
