"""Batch.com: push campaigns, campaign stats and transactional push stats of the ios and android apps."""

from data_gcp.batch.connector import APPS, CAMPAIGN_STATS, CAMPAIGNS, CONNECTOR, TRANSACTIONAL, BatchConnector

__all__ = ["APPS", "CAMPAIGNS", "CAMPAIGN_STATS", "CONNECTOR", "TRANSACTIONAL", "BatchConnector"]
