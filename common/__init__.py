"""Plumbing shared by the app, identity, file server and gateway; imports none of them."""
