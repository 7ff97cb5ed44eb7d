"""What generating typed operations needs, for prefect_gql's own package and for an
application's (``prefect-gql init`` / ``generate``): the operation base classes and the JSON
type (copied into each generated package) and the plugin deriving the sync operations.

Nothing here is imported by the client at run time.
"""
