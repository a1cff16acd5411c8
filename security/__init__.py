"""Signed tokens: the action links in responders' emails."""
