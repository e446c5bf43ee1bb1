"""Tests of signbind_hf.data."""
