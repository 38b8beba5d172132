"""`kansa eval`: the simulator's labelled scenarios through the real pipeline, scored per scenario type."""
