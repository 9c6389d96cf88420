"""Tests of tandem.curriculum."""
