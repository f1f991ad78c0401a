"""`leakless evaluate` and `leakless select`: put a release to candidate models, judge their
answers into VLSBench's labels, rank the models, and keep the pairs that tell them apart.

models.py (the models file), pairs.py (reading a release), runner.py (answer + judge, one
Parquet file per model), leaderboard.py (rates with Wilson intervals), report.py (Markdown
and HTML), selection.py (separability and rank agreement).
"""
