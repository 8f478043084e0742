"""Contentful: the app's home-page CMS content (entries, their links, their tags)."""

from data_gcp.contentful.connector import CONNECTOR, ContentfulConnector, links_of

__all__ = ["CONNECTOR", "ContentfulConnector", "links_of"]
