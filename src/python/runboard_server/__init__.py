"""Runboard model server (standard library only)."""
