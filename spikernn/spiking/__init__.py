"""Filled in at integration."""
