"""Build-time tools of this repository (not installed): the unasync transform that
generates ``prefect_gql/_sync/`` from ``prefect_gql/_async/``."""
