"""The consumer's steps, each testable alone with a fake next step."""
