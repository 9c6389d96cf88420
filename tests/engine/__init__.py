"""Tests of tandem.engine."""
