"""The pipeline: decode → evaluate → detect → batch → write → commit, and the poll loop that feeds it."""
