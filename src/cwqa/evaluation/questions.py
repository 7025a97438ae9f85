"""Question files: JSON Lines of questions with their gold quotes, checked line by line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from ..errors import CwqaError


DEFAULT_QUESTIONS = Path("eval/questions.jsonl")


DEFAULT_UNANSWERABLE = Path("eval/unanswerable.jsonl")


class Question(NamedTuple):
    """One line of a questions file."""

    id: str
    question: str
    quotes: tuple[str, ...]
    doc: str | None = None
    kind: str = ""  # e.g. "paraphrase", "modern-term", "who-when" (realistic sets)
    split: str = ""  # "tune" or "heldout"


def parse_question(line: str, where: str, need_quotes: bool = True) -> Question:
    """A question from one JSONL line; a malformed line raises CwqaError naming `where` (file:line)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise CwqaError(f"{where}: not valid JSON ({error.msg}, column {error.colno})")
    if not isinstance(row, dict):
        raise CwqaError(f"{where}: must be a JSON object, not {type(row).__name__}")
    qid, question, quotes, doc = row.get("id"), row.get("question"), row.get("quotes"), row.get("doc")
    if not isinstance(qid, str) or not qid.strip():
        raise CwqaError(f"{where}: field 'id' is missing or not a non-empty string")
    if not isinstance(question, str) or not question.strip():
        raise CwqaError(f"{where}: field 'question' is missing or not a non-empty string")
    if quotes is None and not need_quotes:
        quotes = []  # an unanswerable question has no gold quotes to give
    if not isinstance(quotes, list) or not all(isinstance(quote, str) for quote in quotes):
        raise CwqaError(f"{where}: field 'quotes' must be a list of strings")
    if isinstance(doc, int) and not isinstance(doc, bool):
        doc = str(doc)  # a printed document number ("doc": 41)
    if doc is not None and not isinstance(doc, str):
        raise CwqaError(f"{where}: field 'doc' must be a string, a document number or null, not {doc!r}")
    kind, split = row.get("kind", ""), row.get("split", "")
    if not isinstance(kind, str) or not isinstance(split, str):
        raise CwqaError(f"{where}: fields 'kind' and 'split' must be strings")
    return Question(qid, question.strip(), tuple(quote for quote in quotes if quote.strip()), doc, kind, split)


def read_questions(path: Path, need_quotes: bool = True) -> list[Question]:
    """The questions of a JSONL file, checked; errors name the file and the line.

    With `need_quotes`, every question must have at least one gold quote (an answerable set);
    without, quotes may be empty (the unanswerable set).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CwqaError(f"{path}: questions file not found")
    except (OSError, UnicodeDecodeError) as error:
        raise CwqaError(f"{path}: questions file unreadable ({error})")
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        question = parse_question(line, where, need_quotes)
        if question.id in seen:
            raise CwqaError(f"{where}: id {question.id!r} is already used on line {seen[question.id]}")
        if need_quotes and not question.quotes:
            raise CwqaError(f"{where}: question {question.id!r} has no gold quotes")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise CwqaError(f"{path}: no questions")
    return questions
