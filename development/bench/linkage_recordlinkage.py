"""The `recordlinkage` package's standard pipeline, untuned: index -> compare -> classify, as a baseline.

Run by `bench_linkage.py` in an environment of its own (`uv run --isolated --with recordlinkage`):
the package pins pandas below 3, which the workspace does not use. Reads items (item_id,
subcategory_id, name, author) from a parquet file, writes item_id -> linked item id to another.
- index: sorted neighbourhood on the normalised name (window 9) inside each subcategory, plus
  blocking on (subcategory, first name word);
- compare: Jaro-Winkler of the names and of the authors (0 when missing), Levenshtein of the names;
- classify: the ECM classifier (expectation-conditional maximisation, unsupervised) on the comparisons
  binarised at 0.85, as the package's documentation does; then connected components.

    python linkage_recordlinkage.py items.parquet links.parquet
"""

from __future__ import annotations

import re
import sys
import unicodedata

import pandas as pd
import recordlinkage


def normalise(text: object) -> str:
    """Lower case, no accents, letters and digits: `record_linkage.normalise`, which this environment
    (without the workspace) cannot import."""
    if not isinstance(text, str):
        return ""
    text = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def main(source: str, target: str) -> None:
    items = pd.read_parquet(source).set_index("item_id")
    items["name_n"] = items["name"].map(normalise)
    items["author_n"] = items["author"].map(normalise).replace("", None)
    items["first"] = items["name_n"].str.split().str[0].fillna("")
    indexer = recordlinkage.Index()
    indexer.sortedneighbourhood("name_n", window=9, block_on="subcategory_id")
    indexer.block(["subcategory_id", "first"])
    pairs = indexer.index(items)
    compare = recordlinkage.Compare()
    compare.string("name_n", "name_n", method="jarowinkler", label="name_jw")
    compare.string("name_n", "name_n", method="levenshtein", label="name_lev")
    compare.string("author_n", "author_n", method="jarowinkler", missing_value=0, label="author")
    features = compare.compute(pairs, items)
    binary = (features >= 0.85).astype(int)
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(binary)
    parent = {i: i for i in items.index}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in matches:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    pd.DataFrame({"item_id": list(parent), "linked": [root(i) for i in parent]}).to_parquet(target)
    print(f"recordlinkage: {len(pairs):,} candidate pairs, {len(matches):,} matches", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
