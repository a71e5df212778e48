"""The handbook: the inventory of topics and claims, the coverage map, and the bilingual entries.

* `inventory`, `coverage` -- every topic and claim ID, and what covers each one;
* `entries` (data: one YAML file per topic) validated by `schema`; docs/handbook.md tells how to write one;
* `search` (one tokenizer for English and Chinese, BM25), `show`, `quiz` (FSRS), `anki`, `site`
  (static HTML with MathML via `render`), all behind ``deepnotes ask | show | quiz | anki | site``.
"""
