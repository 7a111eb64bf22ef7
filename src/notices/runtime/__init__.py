"""When and what runs: the jobs, the scheduler and its leader election, health, demo data."""
