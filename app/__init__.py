"""Kirklees asset map: where community support is in Kirklees, and what is nearest and open."""

__version__ = "0.1.0"
