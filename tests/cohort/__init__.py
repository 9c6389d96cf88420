"""Tests of tandem.cohort."""
