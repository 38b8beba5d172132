"""Reports read from the store: provision records, and (later) subject and actor reports."""
