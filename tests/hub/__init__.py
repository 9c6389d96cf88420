"""Tests of tandem.hub."""
