-- Subject access reports read one subject's provision records; without an index that is a full scan.
ALTER TABLE provision_records ADD INDEX IF NOT EXISTS idx_subject subject_id TYPE bloom_filter(0.001) GRANULARITY 1;
ALTER TABLE provision_records MATERIALIZE INDEX idx_subject;
