"""The contract between apps and the pipeline: Avro schemas, wire codec, headers, samples."""
