"""The handbook's subcommands: ``ask``, ``show``, ``quiz``, ``anki``, ``site``.

    deepnotes ask "BN和LN的区别是什么" [--lang en|zh] [--top 5] [--json]
    deepnotes ask --eval src/deepnotes/handbook/retrieval_set.json [--top 3] [--json]
    deepnotes show N2 [--lang en|zh|both]
    deepnotes quiz [--topics N1,N2] [--lang en|zh] [--new 10] | deepnotes quiz --stats [--json]
    deepnotes anki handbook.apkg [--lang en|zh|both]
    deepnotes site runs/handbook/site [--claims-dir runs/claims]

Every command takes ``--entries DIR`` to work on another folder of entry files (drafts, tests).
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    def with_entries(p):
        p.add_argument("--entries", metavar="DIR", default=None,
                       help="folder of entry files (default: the entries shipped with deepnotes)")
        return p

    p = with_entries(subparsers.add_parser("ask", help="search the bilingual handbook (English or Chinese questions)"))
    p.add_argument("query", nargs="?", help='the question, e.g. "BN和LN的区别是什么"')
    p.add_argument("--lang", choices=("en", "zh"), default=None, help="language of the answers shown (default: the query's)")
    p.add_argument("--top", type=int, default=None, help="how many entries to show (default 5; with --eval: 3)")
    p.add_argument("--eval", metavar="FILE", default=None,
                   help='JSON list of {"q": question, "ids": [entry IDs]}: report top-1 / top-K accuracy')
    p.add_argument("--json", action="store_true", help="print one JSON document on the last line")
    p.set_defaults(func=cmd_ask)

    p = with_entries(subparsers.add_parser("show", help="print one handbook entry with its claims' verdicts"))
    p.add_argument("id", help="entry ID, e.g. N2")
    p.add_argument("--lang", choices=("en", "zh", "both"), default="en")
    p.set_defaults(func=cmd_show)

    p = with_entries(subparsers.add_parser("quiz", help="practise the entries' quiz items (FSRS spaced repetition)"))
    p.add_argument("--topics", default=None, help="comma-separated inventory IDs, e.g. N1,N2 (default: all)")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.add_argument("--new", type=int, default=10, help="at most this many new cards after the due ones (default 10)")
    p.add_argument("--stats", action="store_true", help="show due counts and retention instead of quizzing")
    p.add_argument("--json", action="store_true", help="with --stats: one JSON object")
    p.set_defaults(func=cmd_quiz)

    p = with_entries(subparsers.add_parser("anki", help="write an Anki deck (.apkg) of the entries"))
    p.add_argument("out", help="output file, e.g. handbook.apkg")
    p.add_argument("--lang", choices=("en", "zh", "both"), default="both")
    p.set_defaults(func=cmd_anki)

    p = with_entries(subparsers.add_parser("site", help="build the static offline handbook site (HTML)"))
    p.add_argument("out", help="output folder, e.g. runs/handbook/site")
    p.add_argument("--claims-dir", default="runs/claims",
                   help="the claims report folder: its figures and pages are included when present (default runs/claims)")
    p.add_argument("--no-figures", action="store_true", help="skip the entries' figure builders (faster)")
    p.add_argument("--pdf", action="store_true", help="also print each family's print view to print/<FAMILY>.pdf (Chromium)")
    p.set_defaults(func=cmd_site)


def _entries(args, deep=False):
    from .entries import load_entries

    return load_entries(args.entries, deep=deep)


def _fail(message: str) -> int:
    print(f"deepnotes: {message}", file=sys.stderr)
    return 2


def cmd_ask(args) -> int:
    from .schema import EntryError
    from .search import build_index, evaluate

    if (args.query is None) == (args.eval is None):
        return _fail("ask: give either a QUERY or --eval FILE")
    if args.top is not None and args.top < 1:
        return _fail(f"ask: --top must be a positive integer, got {args.top}")
    try:
        entries = _entries(args)
    except (EntryError, FileNotFoundError) as exc:
        return _fail(f"ask: cannot load the entries:\n{exc}")
    if not entries:
        return _fail("ask: there are no handbook entries to search")
    index = build_index(entries)
    if args.eval:
        try:
            questions = json.loads(Path(args.eval).read_text(encoding="utf-8"))
            result = evaluate(index, questions, top=args.top or 3)
        except (OSError, ValueError) as exc:
            return _fail(f"ask --eval: {exc}")
        k = args.top or 3
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            return 0
        for miss in result["missed"]:
            print(f"missed: {miss['q']}  wanted {','.join(miss['ids'])}  got {','.join(miss['got']) or '-'}")
        print(f"{result['n']} questions: top-1 {result['top1']:.1%}, top-{k} {result[f'top{k}']:.1%}")
        return 0
    hits = index.search(args.query, top=args.top or 5)
    by_id = {e.id: e for e in entries}
    if args.json:
        print(json.dumps([{"id": i, "score": round(s, 4), "title_en": by_id[i].data["title"]["en"],
                           "title_zh": by_id[i].data["title"]["zh"]} for i, s in hits], ensure_ascii=False))
        return 0
    lang = args.lang or ("zh" if re.search(r"[\u3400-\u9fff]", args.query) else "en")
    if not hits:
        print("no entry matches" if lang == "en" else "没有匹配的条目")
    from .render import markdown_to_plain
    from .show import wrap

    for rank, (entry_id, score) in enumerate(hits, 1):
        d = by_id[entry_id].data
        print(f"{rank}. {entry_id}  {d['title'][lang]}  (score {score:.2f})")
        for line in wrap(markdown_to_plain(d["short"][lang]), 92):
            print("   " + line)
    return 0


def cmd_show(args) -> int:
    from .entries import get_entry
    from .schema import EntryError
    from .show import format_entry

    try:
        entry = get_entry(args.id, args.entries)  # schema-checked; the test suite checks links
    except KeyError as exc:
        return _fail(f"show: {exc.args[0]}")
    except (EntryError, FileNotFoundError) as exc:
        return _fail(f"show: cannot load the entries:\n{exc}")
    sys.stdout.write(format_entry(entry, args.lang, color=sys.stdout.isatty()))
    return 0


def cmd_quiz(args) -> int:
    from .inventory import load_inventory
    from .quiz import ReviewStore, format_stats, make_scheduler, quiz_cards, run_session, utcnow
    from .schema import EntryError

    topics = [t.strip() for t in args.topics.split(",") if t.strip()] if args.topics else None
    unknown = [t for t in topics or [] if t not in load_inventory()]
    if unknown:
        return _fail(f"quiz: --topics names unknown inventory IDs {unknown} (expected IDs such as N1,N2)")
    if args.new < 0:
        return _fail(f"quiz: --new must be >= 0, got {args.new}")
    try:
        entries = _entries(args)
    except (EntryError, FileNotFoundError) as exc:
        return _fail(f"quiz: cannot load the entries:\n{exc}")
    store = ReviewStore()
    try:
        if args.stats:
            stats = store.stats(utcnow(), set(quiz_cards(entries, topics)))
            print(json.dumps(stats) if args.json else format_stats(stats, args.lang), end="" if not args.json else "\n")
            return 0
        if topics and not quiz_cards(entries, topics):
            return _fail(f"quiz: no entry answers {','.join(topics)} yet")
        run_session(entries, sys.stdin, sys.stdout, lang=args.lang, topics=topics, new=args.new, store=store,
                    scheduler=make_scheduler())
    finally:
        store.close()
    return 0


def cmd_anki(args) -> int:
    from .anki import build_deck
    from .schema import EntryError

    try:
        result = build_deck(_entries(args, deep=True), args.out, args.lang)
    except (EntryError, FileNotFoundError) as exc:
        return _fail(f"anki: cannot load the entries:\n{exc}")
    except ValueError as exc:
        return _fail(f"anki: {exc}")
    print(f"wrote {result['path']}: {result['notes']} notes from {result['entries']} entries")
    return 0


def cmd_site(args) -> int:
    from .schema import EntryError
    from .site import build_site

    start = time.perf_counter()
    try:
        result = build_site(_entries(args, deep=True), args.out, claims_dir=args.claims_dir,
                            figures=not args.no_figures, pdf=args.pdf)
    except (EntryError, FileNotFoundError) as exc:
        return _fail(f"site: cannot load the entries:\n{exc}")
    except RuntimeError as exc:  # --pdf without a working Chromium
        return _fail(f"site: {exc}")
    print(f"wrote {result['index']}: {result['pages']} pages, {result['figures']} figures, "
          f"{result['print_pages']} print pages{', ' + str(result['pdfs']) + ' PDFs' if result['pdfs'] else ''} "
          f"in {time.perf_counter() - start:.1f} s")
    return 0
