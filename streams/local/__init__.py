"""Local stand-ins for production services: the embedded Kafka broker."""
