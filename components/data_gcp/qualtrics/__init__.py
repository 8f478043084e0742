"""Qualtrics: surveys, survey answers (respondent x question) and opted-out contacts."""

from data_gcp.qualtrics.connector import (
    ANSWERS,
    CONNECTOR,
    OPT_OUT_USERS,
    SURVEY,
    QualtricsConnector,
    answers_from_csv,
)

__all__ = ["ANSWERS", "CONNECTOR", "OPT_OUT_USERS", "SURVEY", "QualtricsConnector", "answers_from_csv"]
