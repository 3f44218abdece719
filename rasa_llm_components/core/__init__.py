"""Policies and the dialogue runtime."""
