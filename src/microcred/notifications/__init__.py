"""In-app notifications: what happened to a person's credentials, awards and jobs."""
