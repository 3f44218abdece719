"""Conversation repair for Rasa Open Source 3.6: the policy logic and action-server helpers."""
