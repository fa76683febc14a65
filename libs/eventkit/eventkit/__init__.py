"""Shared platform code of the MotCua services: events, Kafka, outbox, inbox, Mongo, logging, auth, web."""
