"""The encoder search index: every code of one ICD-10-CM code set, built once per KB release and cached on disk.

Source rows (KB tables, see kb/schema.sql): `codes` (titles, levels, parents, 7th-character extensions),
`notes` with note_type 'inclusion_term' or 'includes' (the inclusion terms and 'Includes:' notes printed under
a code in the CDC tabular; I10 lists 'high blood pressure' as an Includes note),
`seventh_characters` (the meanings of each 7th character). The ancestors' titles (via `codes.parent`) are the
context of a code.

One document per category, subcategory and code (the 7th-character extensions, S72.001A etc., are not separate
documents: they are reached through their 6-character code, whose document carries every 7th-character meaning
so that 'initial', 'subsequent', 'sequela' and fracture words match it; rank.py then picks the extension).

Retrieval uses tantivy (BM25; one tantivy document per name, fields name, ctx, ext; measured against bm25s in
docs/search.md); re-ranking (rank.py) uses the per-document names and tokens kept in `SearchIndex.docs`.

Cache: `<folder of the KB file>/search-<release id>-<code set>-<key>/` holding the tantivy index and docs.json,
where key hashes INDEX_VERSION and synonyms.csv (the spelling variants change the indexed tokens). A folder
that cannot be written falls back to an in-memory index.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
import tantivy

from hccguide.icd10 import undot
from hccguide.kb.index_tables import COLUMN_LABELS
from hccguide.kb.open import KB
from hccguide.search.synonyms import Synonyms, load_synonyms
from hccguide.search.text import STOPWORDS, name_parts, range_tokens, tokens

INDEX_VERSION = 15
FIELDS = ("name", "ctx", "ext")

# Weight of a name of a code when matched by the ranker: its own title, its own inclusion terms, the inclusion
# terms printed under an ancestor (e.g. I50.2 'Heart failure with reduced ejection fraction [HFrEF]' applies to
# I50.20-I50.23).
NAME_WEIGHTS = {"title": 1.0, "incl": 0.95, "table": 0.95, "inherited": 0.85}


@dataclass
class Doc:
    """One code of the index. `names`: (kind, text, tokens, content tokens, negated tokens) for the title and each
    inclusion term (text.name_parts);
    `ctx`: tokens of the ancestors' titles (for the tantivy build; empty once opened); `ext`: the 7th-character extensions [(char, dotted code, meaning,
    meaning tokens)] when the code needs a 7th character."""

    code: str
    dotted: str
    title: str
    billable: bool
    level: str
    parent: str | None
    chapter: int
    depth: int
    names: list[tuple]  # (kind, text, tokens, content, negated): tuples when built, frozensets once opened
    ctx: frozenset[str]
    ext: list[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=list)
    ext_tokens: frozenset[str] = frozenset()


@dataclass
class SearchIndex:
    """An opened index: tantivy searcher, documents, idf per token, vocabulary for spelling correction."""

    code_set: str
    release_id: str
    docs: list[Doc]
    by_code: dict[str, int]
    idf: dict[str, float]
    vocab: list[str]
    index: tantivy.Index
    schema: tantivy.Schema
    synonyms: Synonyms
    path: Path | None
    build_seconds: float | None  # None when loaded from the cache
    children: dict[str, list[int]] = field(default_factory=dict)
    extension_codes: dict[str, tuple[int, int]] = field(default_factory=dict)  # 'S72001A' -> (doc, ext position)
    # per document, filled as the ranker meets it (rank.py _context / _names): ancestors' title words, and the
    # names with the ancestors' inclusion terms; a few MB for the documents queries actually reach
    context_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    names_cache: dict[str, list[tuple]] = field(default_factory=dict)

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def idf_of(self, token: str) -> float:
        """idf of an index word; a word the index lacks weighs as much as the rarest one."""
        return self.idf.get(token, self._max_idf)

    @property
    def max_idf(self) -> float:
        return self._max_idf

    def __post_init__(self) -> None:
        self._max_idf = math.log(1 + len(self.docs))


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("i", stored=True, indexed=False, fast=True)
    for name in FIELDS:
        builder.add_text_field(name, stored=False)
    return builder.build()


def _synonyms_key(synonyms_text: str) -> str:
    return hashlib.sha256(f"v{INDEX_VERSION}\n{synonyms_text}".encode()).hexdigest()[:10]


def _name(kind: str, text: str, variants: dict) -> tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    content, negated = name_parts(text, variants)
    return (kind, text, tuple(tokens(text, variants) + range_tokens(text)), tuple(content), tuple(negated))


def collect_docs(kb: KB, code_set: str, synonyms: Synonyms) -> list[Doc]:
    """Read the KB rows of `code_set` into documents (ordered as in the tabular)."""
    variants = synonyms.variants
    rows = kb.query(
        "SELECT code, code_dotted, title, billable, level, parent, chapter, depth, seventh_char_source, seventh_char "
        "FROM codes WHERE code_set = ? ORDER BY seq",
        [code_set],
    )
    incl: dict[str, list[str]] = {}
    for r in kb.query(
        "SELECT node, text FROM notes WHERE code_set = ? AND node_kind = 'code' AND note_type IN ('inclusion_term', 'includes') "
        "ORDER BY node, note_type DESC, seq",
        [code_set],
    ):
        incl.setdefault(r["node"], []).append(r["text"])
    meanings = {
        (r["node"], r["character"]): r["meaning"]
        for r in kb.query("SELECT node, character, meaning FROM seventh_characters WHERE code_set = ?", [code_set])
    }
    titles = {r["code"]: r["title"] for r in rows}
    parents = {r["code"]: r["parent"] for r in rows}
    docs: list[Doc] = []
    by_code: dict[str, Doc] = {}
    for r in rows:
        if r["level"] == "extension":
            continue
        names = [_name("title", r["title"], variants)]
        names += [_name("incl", t, variants) for t in incl.get(r["code"], [])]
        ctx: set[str] = set()
        up = parents.get(r["code"])
        while up:
            ctx.update(tokens(titles[up], variants))
            up = parents.get(up)
        doc = Doc(
            r["code"],
            r["code_dotted"],
            r["title"],
            bool(r["billable"]),
            r["level"],
            r["parent"],
            int(r["chapter"]),
            int(r["depth"]),
            names,
            frozenset(ctx - STOPWORDS),
        )
        docs.append(doc)
        by_code[doc.code] = doc
    _add_table_names(kb, by_code, variants)
    for r in rows:
        if r["level"] == "extension" and r["parent"] in by_code:
            meaning = meanings.get((r["seventh_char_source"], r["seventh_char"]), r["title"])
            by_code[r["parent"]].ext.append(
                (r["seventh_char"], r["code_dotted"], meaning, tuple(tokens(meaning, variants)))
            )
    return docs


# How a row of the Neoplasm / Drug table reads as a name of the code in its cell (issue 14): the column as words,
# then the site or substance. Words in parentheses are nonessential (matched, never held against the code):
# 'primary', and for an accidental poisoning 'overdose' / 'accidental' (Guidelines I.C.19.e.5.b: a poisoning of
# unstated intent is coded as accidental).
TABLE_PHRASES: dict[str, str] = {
    "malignant_primary": "malignant neoplasm (primary) of {}",
    "malignant_secondary": "secondary malignant neoplasm of {}",
    "ca_in_situ": "carcinoma in situ of {}",
    "benign": "benign neoplasm of {}",
    "uncertain_behavior": "neoplasm of uncertain behavior of {}",
    "unspecified_behavior": "neoplasm of unspecified behavior of {}",
    "poisoning_accidental": "poisoning by {} (accidental) (unintentional) (overdose)",
    "poisoning_intentional_self_harm": "poisoning by {}, intentional self-harm (overdose)",
    "poisoning_assault": "poisoning by {}, assault",
    "poisoning_undetermined": "poisoning by {}, undetermined",
    "adverse_effect": "adverse effect of {}",
    "underdosing": "underdosing of {}",
}
TABLE_TITLES = {"neoplasm": "Table of Neoplasms", "drug": "Table of Drugs and Chemicals"}


def _add_table_names(kb: KB, by_code: dict[str, Doc], variants: dict) -> int:
    """Add each cell of the KB's Neoplasm and Drug tables (`index_terms` / `index_cells`, CDC April 2026) as a
    name (kind 'table') of the code it names: 'Neoplasm, liver, Malignant Secondary' -> C78.7 reads 'secondary
    malignant neoplasm of liver'; 'Lisinopril, Adverse effect' -> T46.4X5 reads 'adverse effect of lisinopril'.
    A cell printed with '-' or a Drug code still needing its 7th character names the header, whose choices or
    7th character the result carries. A cell naming a code this code set lacks (FY2027 deleted T52.8X-) is left
    out. Returns the number of names added (0 for a KB built before the tables were loaded)."""
    try:
        cells = kb.query(
            "SELECT t.table_name, t.path, t.nonessential, c.column_name, c.code, c.printed "
            "FROM index_cells c JOIN index_terms t USING (table_name, row_id) ORDER BY t.table_name, t.row_id"
        )
    except duckdb.Error:  # a KB built before the tables were loaded: search without them
        return 0

    added = 0
    seen: set[tuple[str, str]] = set()
    for c in cells:
        doc = by_code.get(c["code"])
        if doc is None or c["column_name"] not in TABLE_PHRASES:
            continue
        path = list(c["path"])
        where = path[1:] if c["table_name"] == "neoplasm" else path
        if not where:
            continue
        subject = " ".join(where) + "".join(f" {m}" for m in c["nonessential"])
        search_text = TABLE_PHRASES[c["column_name"]].format(subject)
        if (doc.code, search_text) in seen:
            continue
        seen.add((doc.code, search_text))
        label = ", ".join(["Neoplasm", *where]) if c["table_name"] == "neoplasm" else ", ".join(where)
        shown = f"{TABLE_TITLES[c['table_name']]}: {label}, {COLUMN_LABELS[c['column_name']]}"
        kind, _text, toks, content, negated = _name("table", search_text, variants)
        doc.names.append((kind, f"{shown} \u2192 {c['printed']}", toks, content, negated))
        added += 1
    return added


def _write_tantivy(index: tantivy.Index, docs: list[Doc]) -> None:
    writer = index.writer(heap_size=200_000_000, num_threads=1)
    # One tantivy document per name (the title, each own inclusion term), so that BM25 length normalisation
    # judges each name on its own; the title document also carries the context and the 7th-character words.
    for i, d in enumerate(docs):
        ext_tokens = sorted({t for e in d.ext for t in e[3]})
        for kind, _text, toks, _content, _neg in d.names:
            if kind == "title":
                writer.add_document(
                    tantivy.Document(i=i, name=" ".join(toks), ctx=" ".join(sorted(d.ctx)), ext=" ".join(ext_tokens))
                )
            elif kind in ("incl", "table"):
                writer.add_document(tantivy.Document(i=i, name=" ".join(toks)))
    writer.commit()
    writer.wait_merging_threads()


def _idf(docs: list[Doc]) -> dict[str, float]:
    """idf per word over the codes' tabular names (titles, inclusion terms). Words of the Neoplasm / Drug table
    names do not change it (the tabular words weigh as they did before the tables were indexed); a word found only
    there ('lisinopril') weighs as a word of one code, and is known to the spelling corrector."""
    df: dict[str, int] = {}
    table_only: set[str] = set()
    for d in docs:
        seen: set[str] = set()
        for kind, _text, toks, _content, _neg in d.names:
            if kind == "table":
                table_only.update(toks)
            else:
                seen.update(toks)
        for t in seen:
            df[t] = df.get(t, 0) + 1
    n = len(docs)
    idf = {t: math.log(1 + n / c) for t, c in df.items()}
    rare = math.log(1 + n)
    for t in table_only - idf.keys():
        idf[t] = rare
    return idf


def _doc_to_json(d: Doc) -> list:
    return [
        d.code,
        d.dotted,
        d.title,
        d.billable,
        d.level,
        d.parent,
        d.chapter,
        d.depth,
        [[k, x, list(t), list(c), list(n)] for k, x, t, c, n in d.names],
        [],  # context is rebuilt from the parents when opened
        [[*list(e[:3]), list(e[3])] for e in d.ext],
    ]


def _freeze_name(name: tuple, intern=sys.intern) -> tuple:  # type: ignore[no-untyped-def]
    """(kind, text, tokens, content, negated) with tokens as a frozenset, content deduplicated, words interned
    (the same word is one object in every document)."""
    k, x, t, c, n = name
    return (k, x, frozenset(map(intern, t)), tuple(dict.fromkeys(map(intern, c))), tuple(map(intern, n)))


def _doc_from_json(row: list) -> Doc:
    """A document as the ranker uses it, straight from its docs.json row."""
    intern = sys.intern
    ext = [(e[0], e[1], e[2], tuple(map(intern, e[3]))) for e in row[10]]
    return Doc(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        [_freeze_name(n) for n in row[8]],
        frozenset(),  # the ranker reads the ancestors' titles through the parent chain (less memory)
        ext,
        frozenset(t for e in ext for t in e[3]),
    )


def _finish(
    kb: KB,
    code_set: str,
    docs: list[Doc],
    index: tantivy.Index,
    path: Path | None,
    seconds: float | None,
    synonyms: Synonyms,
    idf: dict[str, float] | None = None,
) -> SearchIndex:
    if seconds is not None:  # freshly built: freeze as _doc_from_json does
        intern = sys.intern
        for d in docs:
            d.names = [_freeze_name(n) for n in d.names]
            d.ctx = frozenset()
            d.ext = [(e[0], e[1], e[2], tuple(map(intern, e[3]))) for e in d.ext]
            d.ext_tokens = frozenset(t for e in d.ext for t in e[3])
    idf = idf if idf is not None else _idf(docs)
    vocab = sorted({t for t in idf if len(t) >= 3 and not t.isdigit()} | {t for k in synonyms.phrases for t in k})
    index.reload()
    si = SearchIndex(
        code_set,
        kb.release_id,
        docs,
        {d.code: i for i, d in enumerate(docs)},
        idf,
        vocab,
        index,
        index.schema,
        synonyms,
        path,
        seconds,
    )
    for i, d in enumerate(docs):
        if d.parent:
            si.children.setdefault(d.parent, []).append(i)
        for j, e in enumerate(d.ext):
            si.extension_codes[undot(e[1])] = (i, j)
    return si


def cache_dir(kb: KB, code_set: str) -> Path:
    """Where the index of (KB release, code set) is cached: next to the KB file."""
    text = resources.files("hccguide.search").joinpath("synonyms.csv").read_text(encoding="utf-8")
    return Path(kb.path).parent / f"search-{kb.release_id}-{code_set}-{_synonyms_key(text)}"


def build_index(kb: KB, code_set: str, path: Path | None = None) -> SearchIndex:
    """Build the index of `code_set` (into `path` if given, else in memory). Takes a few seconds (see
    benchmarks/search.py)."""
    start = time.perf_counter()
    synonyms = load_synonyms()
    docs = collect_docs(kb, code_set, synonyms)
    schema = _schema()
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(schema, path=str(path), reuse=False)
    else:
        index = tantivy.Index(schema)
    _write_tantivy(index, docs)
    if path is not None:
        payload = {"idf": _idf(docs), "docs": [_doc_to_json(d) for d in docs]}
        (path / "docs.json").write_text(json.dumps(payload, separators=(",", ":")))
    return _finish(kb, code_set, docs, index, path, time.perf_counter() - start, synonyms)


def _load(kb: KB, code_set: str, path: Path) -> SearchIndex:
    payload = json.loads((path / "docs.json").read_text())
    docs = [_doc_from_json(r) for r in payload["docs"]]
    index = tantivy.Index.open(str(path))
    return _finish(kb, code_set, docs, index, path, None, load_synonyms(), payload["idf"])


def _remove_stale(final: Path) -> None:
    """Remove the caches of the same release and code set built for an older synonyms.csv or index version."""
    prefix = final.name.rsplit("-", 1)[0] + "-"
    for other in final.parent.glob(prefix + "*"):
        if other != final and other.is_dir() and ".tmp-" not in other.name:
            shutil.rmtree(other, ignore_errors=True)


MEMO = "search.index"


def open_index(kb: KB, code_set: str) -> SearchIndex:
    """The index of (KB release, code set): in memory if already opened on this KB handle (`KB.memo`, key
    ("search.index", code_set); released with the handle, `kb.forget("search.index")` drops it), else loaded from
    the cache folder next to the KB, else built there (atomically: built in a temporary folder, then renamed)."""
    return kb.memo((MEMO, code_set), lambda: open_at(kb, code_set, cache_dir(kb, code_set)))


def open_at(kb: KB, code_set: str, final: Path) -> SearchIndex:
    """Load the index cached in `final`, or (re)build it there when it is missing or damaged (built in a
    temporary sibling folder, then renamed, so a reader never sees half an index)."""
    if final.exists():
        try:
            return _load(kb, code_set, final)
        except (OSError, ValueError, KeyError, TypeError, IndexError):  # damaged or partial: rebuild it
            shutil.rmtree(final, ignore_errors=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=final.parent))
    except OSError:  # the KB folder is not writable: an index in memory
        return build_index(kb, code_set, None)
    seconds = build_index(kb, code_set, tmp).build_seconds
    try:
        os.rename(tmp, final)
        _remove_stale(final)
    except OSError:  # another process won the race: use its index
        shutil.rmtree(tmp, ignore_errors=True)
    si = _load(kb, code_set, final)
    si.build_seconds = seconds
    return si
