"""Tests of tandem.notebook."""
