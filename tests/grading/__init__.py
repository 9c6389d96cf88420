"""Tests of tandem.grading."""
