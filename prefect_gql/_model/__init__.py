"""What the client sends and answers, with no I/O: states, results, views, flow specs,
Prefect compatibility, the GraphQL DSL, input checks."""
