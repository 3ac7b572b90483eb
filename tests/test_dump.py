"""The one YAML writer: its direct path writes byte for byte what PyYAML writes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kfplug import yamlwrite as yamlio

TRICKY = ["", " ", "a ", " a", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "Null", "~", "-", "- a",
          "---", "...", "a: b", "a:", ":a", "a #b", "#a", "1", "-1", "+1", "010", "0x1F", "0o17", "0b1", "1e3",
          "1.5", ".5", "1_000", "1:30", "2001-12-14", "2001-12-14 21:59:43.10 -5", ".inf", "-.Inf", ".nan", "=",
          "<<", "@x", "`x", "a\nb", "a\tb", "a\rb", "é", "日本", "\u2028", "\x85", "\x07", "\ufeff", "*a", "&a",
          "!a", "%a", "'a'", '"a"', "{a}", "[a]", "a,b", "?", "? a", "|", ">", "a" * 150, "a b" * 50, "é" * 60,
          "é" * 40, "10000", "2.0.0-release", "@MYSQL_PASSWORD@", "app.kubernetes.io/name", "/exports/fate", "a/b:c"]
texts = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12),
                  st.from_regex(r"[A-Za-z0-9_./:@ #-]{0,12}", fullmatch=True))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(texts, inner, max_size=4)), max_leaves=25)
documents = st.one_of(st.dictionaries(texts, values, max_size=6), st.lists(values, max_size=6))


@settings(max_examples=400, deadline=None)
@given(documents)
def test_the_direct_writer_matches_pyyaml(document):
    assert yamlio.dump(document) == yamlio._pyyaml_dump(document)


def test_every_tricky_string_as_key_and_value():
    for text in TRICKY:
        for document in ({text: text}, [text], {"k": [text, {text: [text]}]}, [[text]]):
            assert yamlio.dump(document) == yamlio._pyyaml_dump(document), repr(document)


def test_an_object_met_twice_gets_the_anchors_pyyaml_writes():
    shared = {"a": 1}
    document = {"x": shared, "y": [shared, []]}
    assert yamlio.dump(document) == yamlio._pyyaml_dump(document)
    assert "&id001" in yamlio.dump(document)
