"""Local platform: installs and runs Kafka, FerretDB, Mailpit and the services as plain processes."""
