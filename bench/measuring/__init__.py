"""Measuring: scenarios, the harness that runs them, the Locust generator and its users."""
