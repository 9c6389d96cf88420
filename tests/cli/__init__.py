"""Tests of tandem.cli."""
