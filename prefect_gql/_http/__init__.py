"""The transport layer: building requests, sending them with retries, auth, answer limits,
TLS. No public names."""
