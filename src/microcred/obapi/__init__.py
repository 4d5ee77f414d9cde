"""The 1EdTech Open Badges 3.0 API (``/ims/ob/v3p0``) and its OAuth 2.0 authorization server:
other badge hosts, wallets and backpacks read a learner's credentials and push credentials
into their wallet, with the learner's consent."""
