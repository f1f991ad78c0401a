"""Human review of a run's pairs: batches for annotators (`batches`), a SQLite decision store
(`store`), the review web app (`app`, signing in and CSRF in `auth`, edits re-checked by
`scoring`), agreement (`agreement`), decisions back into the run
(`importer.reviewed_pairs`) and Label Studio interop (`labelstudio`)."""
