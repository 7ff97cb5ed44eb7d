"""Tooling for users' queries and the schema: codegen and schema checks."""
