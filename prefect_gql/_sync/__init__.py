"""``Client``, generated from ``prefect_gql._async``."""
