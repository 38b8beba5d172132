"""`kansa bench`: the pipeline's ceilings, in-process and end-to-end speed, queries and memory, in one run."""
