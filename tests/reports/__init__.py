"""Tests of tandem.reports."""
