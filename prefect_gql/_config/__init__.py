"""Settings (environment, config files) and the files the client reads and writes."""
