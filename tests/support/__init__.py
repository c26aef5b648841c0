"""Helpers shared by the test suites: real servers and builders of test objects."""
