"""Image checks and the generate -> check -> refine loop."""
