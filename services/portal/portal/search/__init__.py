"""Search across procedures, news and documents: Vietnamese text folded so that a query without
diacritics, in capitals, with either tone-mark placement or with a one-letter typo still finds
its page. `SearchIndex` is the interface; `StoreSearch` keeps the index in the portal's store."""

from portal.search.interface import KINDS, Hit, SearchIndex
from portal.search.store_index import StoreSearch, ensure_search_indexes

__all__ = ["KINDS", "Hit", "SearchIndex", "StoreSearch", "ensure_search_indexes"]
