"""Encoder search: free text (or a code) to the most specific billable ICD-10-CM codes (docs/search.md).

`search(kb, "chf exacerbation", limit=10)` -> {"results": [{"code", "title", "billable", "v28_hcc", ...}], ...}.
Modules: text.py (normalisation), synonyms.py + synonyms.csv (curated abbreviations and lay terms), index.py
(tantivy index, cached next to the KB), query.py (parsing, retrieval, answer), rank.py (specificity ranking),
evaluate.py (accuracy on a query set), render.py (terminal face).
"""

from hccguide.search.query import search

__all__ = ["search"]
