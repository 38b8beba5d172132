-- Checkpoints of the streaming detectors' per-actor state, one row per save of one partition's
-- state by one consumer group. The newest save wins (ReplacingMergeTree on saved_at); readers
-- take argMax(state, saved_at) so they never depend on merges having run.
CREATE TABLE IF NOT EXISTS detector_state
(
    consumer_group String,
    topic String,
    partition UInt32,
    saved_at DateTime64(6, 'UTC'),
    actors UInt32,
    state String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree(saved_at)
ORDER BY (consumer_group, topic, partition);
