"""prefect_gql."""
