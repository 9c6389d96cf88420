"""Tests of tandem.people."""
