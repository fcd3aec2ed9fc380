"""The committed documents: fresh, readable, and no displayed relation with the same text on both sides."""

import re

import pytest

from convnet_invariances.proofs import rendered_documents, theorems
from convnet_invariances.proofs.__main__ import default_output

FOLDER = default_output()


@pytest.fixture(scope="module")
def documents():
    return rendered_documents()


def test_the_committed_documents_are_fresh(documents):
    assert FOLDER is not None, "the tests run from a source checkout"
    stale = [name for name, text in documents.items()
             if not (FOLDER / name).exists() or (FOLDER / name).read_text(encoding="utf-8") != text]
    assert not stale, f"stale: {stale}; run `python -m convnet_invariances.proofs` and commit proofs/rendered/"
    extra = sorted(path.name for path in FOLDER.glob("*.md") if path.name not in documents)
    assert not extra, f"documents of no theorem: {extra}"


def _relations(markdown):
    """Every displayed relation as (left text, right text): aligned rows continue from the previous right side."""
    pairs = []
    for block in re.findall(r"\$\$\n(.*?)\n\$\$", markdown, flags=re.S):
        if block.startswith(r"\begin{aligned}"):
            previous = None
            for row in block.splitlines()[1:-1]:
                head, _, rest = row.partition("&")
                relation_and_rhs = rest.split("&&")[0].strip().rstrip("\\").strip()
                symbol, _, rhs = relation_and_rhs.partition(" ")
                left = head.strip() or previous
                pairs.append((left, rhs.strip()))
                previous = rhs.strip()
        else:
            for symbol in (r" \neq ", r" \le ", " = "):
                if symbol in block:
                    left, _, right = block.partition(symbol)
                    pairs.append((left.strip(), right.strip()))
                    break
    return pairs


def test_no_displayed_relation_shows_the_same_text_on_both_sides(documents):
    checked = 0
    for name, text in documents.items():
        for left, right in _relations(text):
            assert left != right, f"{name}: {left}"
            checked += 1
    assert checked >= 300


def test_each_document_opens_with_its_statement_then_a_proof_in_words_then_the_derivation(documents):
    for theorem in theorems():
        text = documents[f"{theorem.number:02d}-{theorem.name}.md"]
        positions = [text.index(marker) for marker in ("**Statement.**", "**Proof in words.**",
                                                       "## Checked derivation", "## Numeric twin")]
        assert positions == sorted(positions), theorem.name
        assert "seed" not in text.lower(), theorem.name
        assert ("verified for" in text) == (not theorem.general), theorem.name


def test_the_index_says_which_theorems_are_proved_in_general(documents):
    index = documents["README.md"]
    for theorem in theorems():
        row = next(line for line in index.splitlines() if line.startswith(f"| {theorem.number} |"))
        assert ("in general" in row) == any(claim.general for claim in theorem.statement)
        assert ("instances" in row) == (not theorem.general)
    assert "notation.md" in index and "# Notation" in documents["notation.md"]
