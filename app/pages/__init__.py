"""The pages people use: the public map, the hub desk, the planner, submissions, moderation."""
