"""Image checks: identity hashes and blank output (the generate -> check -> refine loop is pipeline.stages.image_refine)."""
