"""Analysis: from raw measurements to typed rows, models and the results directory."""
