"""A learner's wallet of credentials imported from other issuers, verified on import and use."""
