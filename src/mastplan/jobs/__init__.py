"""Background jobs: long work (coverage, planning, reports, large imports) run outside the
request, with state, progress and results kept in the database so they survive a restart."""
