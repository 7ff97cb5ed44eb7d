"""``AsyncClient`` and its methods, one module per concern (mirroring ``queries/``).

Written by hand; ``prefect_gql/_sync/`` is generated from these files
(``prefect-gql generate``).
"""
