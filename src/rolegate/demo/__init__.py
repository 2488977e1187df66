"""The ready-made demo world of the walkthroughs."""
