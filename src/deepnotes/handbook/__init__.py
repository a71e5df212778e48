"""The handbook: inventory of topics and claims, coverage map, (later) entries and quizzes."""
