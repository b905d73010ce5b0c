"""Hostile article files and manifests: decoded when that is reliable, refused
with one line naming the file otherwise, never mangled, never a crash (issue 6)."""

from __future__ import annotations

import codecs
import os
import shutil
import threading
import unicodedata
from pathlib import Path

import pytest

from geo.corpus import load_corpus
from geo.errors import InputError, ManifestError
from geo.mentions import find_mentions
from geo.textio import (
    MAX_ARTICLE_BYTES,
    MAX_UPLOAD_BYTES,
    decode_article,
    display_name,
    html_to_text,
    looks_like_html,
    read_article,
)

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"


def _refusal(data: bytes, name: str, **kwargs: int) -> str:
    with pytest.raises(InputError) as info:
        decode_article(data, name=name, **kwargs)
    message = str(info.value)
    assert name in message, message
    assert "\n" not in message and "\r" not in message
    return message


# --------------------------------------------------------------------------- the corpus files

ACCEPTED = {
    "01_emoji_rtl.txt": ["Gunmen attacked a police patrol near Zvečan", "🇽🇰", "\u202eNOITNETTA"],
    "02_cp1252_western.txt": [
        "“we will not back down” – and the army’s",
        "Le président a déclaré à",
    ],
    "03_latin1.txt": ["Reporting from Zürich", "The café near"],
    "04_cp1250_serbian.txt": ["in Zvečan on Monday", "Aleksandar Vučić", "near Leposavić."],
    "05_utf16_bom.txt": ["near Leposavić on Saturday", "Priština said"],
    "06_saved_page.html": [
        "Clashes in Mitrovica",
        "Protesters clashed with police in Mitrovica on Wednesday, and four people were injured",
        "By A.\u00a0Reporter & staff",
        '<script>alert("escaped-in-page")</script> was posted',  # entities decode to text
    ],
    "07_script_injection.txt": [
        '<script>alert("xss-quote")</script>',
        "onerror=\"alert('xss-img')\"",
        "[click here](javascript:alert('xss-md'))",
    ],
}

REFUSED = {
    "10_empty.txt": "empty",
    "11_whitespace.txt": "empty",
    "12_binary.txt": "PNG image",
    "13_nul_bytes.txt": "binary",
    "14_invalid_utf8.txt": "not valid UTF-8",
    "15_cp1251_cyrillic.txt": "do not read as Western or Central European text",
    "16_utf16_no_bom.txt": "UTF-16 without a byte-order mark",
    "17_ambiguous_codepage.txt": "equally well as Windows-1252",
    "18_document.pdf.txt": "PDF document",
    "19_script_only.html": "no text outside its tags",
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_corpus_article_is_decoded_exactly(name: str) -> None:
    text = decode_article((HOSTILE / name).read_bytes(), name=name)
    for fragment in ACCEPTED[name]:
        assert fragment in text
    assert "\x00" not in text and "\ufffd" not in text
    assert unicodedata.normalize("NFC", text) == text
    # mojibake of the Central European letters never gets through
    for wrong in ("Zveèan", "Vuèiæ", "Leposaviæ", "Ã", "Â"):
        assert wrong not in text
    # the stored text is what offsets index: every mention slices it exactly
    for mention in find_mentions(text):
        assert text[mention.start : mention.end] == mention.text


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_article_is_refused_with_one_line(name: str) -> None:
    message = _refusal((HOSTILE / name).read_bytes(), name)
    assert REFUSED[name] in message
    assert "Traceback" not in message


def test_every_corpus_file_is_classified() -> None:
    files = {p.name for p in HOSTILE.iterdir() if p.suffix in (".txt", ".html")}
    dated = {n for n in files if n[:2] in ("20", "21", "22", "23", "24", "25")}
    assert files - dated == set(ACCEPTED) | set(REFUSED)


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Police in Zvečan and Leposavić; Vučić and Đorđe spoke.", "cp1250"),
        ("Prezydent Wałęsa powiedział w Łodzi, że żołnierze są gotowi.", "cp1250"),
        ("Le cœur de la ville: l’armée française a renforcé sa présence à Mitrovica.", "cp1252"),
        ("Die Bundeswehr verstärkt ihre Präsenz; Größere Einheiten folgen.", "latin-1"),
        ("El señor García dijo que la misión continúa en Pristina.", "cp1252"),
        ("Café au lait in Zürich — “quoted” – fine…", "cp1252"),
        ("Police in Zvečan said. 🙂", "utf-16"),
        ("Police in Zvečan said. 🙂", "utf-32"),
        ("Police in Zvečan said. 🙂", "utf-8-sig"),
        ("Police in Zvečan said. 🙂", "utf-16-be"),
    ],
)
def test_detectable_encodings_are_decoded(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert decode_article(data, name="a.txt") == text


@pytest.mark.parametrize(
    ("text", "encoding", "reason"),
    [
        ("Сербские войска у границы с Косово.", "cp1251", "Western or Central European"),
        ("Οι σερβικές δυνάμεις συγκεντρώνονται.", "cp1253", "Western or Central European"),
        ("Сербские войска у границы с Косово.", "koi8-r", "Western or Central European"),
        ("コソボ北部で警察が襲撃された。", "shift_jis", "not Windows-1252 or Windows-1250"),
        ("Police in Zvečan.", "cp1250", "equally well"),
        ("Police in Pristina said.", "utf-16-le", "UTF-16 without a byte-order mark"),
        ("Police in Pristina said.", "utf-16-be", "UTF-16 without a byte-order mark"),
    ],
)
def test_undetectable_encodings_are_refused_not_mangled(
    text: str, encoding: str, reason: str
) -> None:
    assert reason in _refusal(text.encode(encoding), "x.txt")


def test_broken_bom_files_are_refused() -> None:
    assert "invalid utf-16" in _refusal(codecs.BOM_UTF16_LE + b"\x00\xd8", "a.txt")
    assert "invalid utf-8" in _refusal(codecs.BOM_UTF8 + b"ok \xff", "a.txt")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.4\n%\xe2\xe3", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (b"{\\rtf1\\ansi Police in Pristina}", "RTF"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"\x7fELF\x02\x01\x01", "executable"),
        (b"SQLite format 3\x00\x10\x00", "SQLite"),
        (b"\x1b[2J\x1b[31m" * 50 + b"text", "binary"),
    ],
)
def test_non_text_files_are_named(data: bytes, what: str) -> None:
    assert what in _refusal(data, "upload.txt")


def test_decomposed_accents_are_normalised() -> None:
    text = decode_article("Police in Zvec\u030can said.".encode(), name="nfd.txt")
    assert "Zvečan" in text
    assert any(m.text == "Zvečan" for m in find_mentions(text))


# --------------------------------------------------------------------------- HTML


def test_saved_page_keeps_visible_text_and_drops_active_content() -> None:
    text = decode_article((HOSTILE / "06_saved_page.html").read_bytes(), name="page.html")
    for gone in ("xss-head-script", "injected by script", "Please enable JavaScript",
                 "background: red", "Sign in", "xss-img-in-page", "xss-body", "<p>", "&amp;"):
        assert gone not in text
    assert text.startswith("Clashes in Mitrovica | Example News\n\nClashes in Mitrovica\n\n")
    assert "© 2024 Example News" in text


def test_html_is_recognised_by_content_or_name_only() -> None:
    assert looks_like_html("<!DOCTYPE html><p>x</p>")
    assert looks_like_html("\ufeff  <!-- saved --><html lang=en>")
    assert looks_like_html('<?xml version="1.0"?>\n<!DOCTYPE html>')
    assert looks_like_html("<p>x</p>", name="page.HTM")
    assert not looks_like_html("Protesters <script>alert(1)</script> in Mitrovica.")
    assert not looks_like_html("<b>Breaking</b>: police in Pristina said.")


def test_html_charset_declaration_is_honoured_or_refused() -> None:
    page = '<html><head><meta charset="windows-1251"></head><body><p>Косово</p></body></html>'
    assert decode_article(page.encode("cp1251"), name="ru.html") == "Косово"
    bad = b'<html><head><meta charset="utf-8"></head><body><p>Zve\xe8an</p></body></html>'
    assert "declares charset utf-8" in _refusal(bad, "liar.html")


@pytest.mark.parametrize(
    "markup",
    [
        "<![if !IE]><p>Police in Pristina</p><![endif]>",
        "<![<p>Police in Pristina</p>",
        "<html><head><title>T</title><p>Police in Pristina</p>",  # </head> omitted
        "<html><body><div><div><div>" * 500 + "Police in Pristina",
        "<pre>  Police\n   in Pristina</pre><p>x</p>",
        "<html><body><p>Police in Pristina<p>said &#0; &#xD800; &#99999999; &bogus;</body>",
        "<html><body><nav><p>unclosed nav</body></html>Police in Pristina",
    ],
)
def test_malformed_html_never_crashes(markup: str) -> None:
    text = html_to_text(markup)
    assert isinstance(text, str)
    assert "<p>" not in text


def test_old_ie_pages_keep_their_text() -> None:
    page = (
        "<!DOCTYPE html><html><head><!--[if lt IE 9]><script src=x></script><![endif]-->"
        "<title>T</title></head><body><![if !IE]><p>Police in Pristina said so.</p>"
        "<![endif]><!-- unclosed comment <p>hidden</p>"
    )
    assert html_to_text(page) == "T\n\nPolice in Pristina said so."


# --------------------------------------------------------------------------- sizes and files


def test_size_limits() -> None:
    assert MAX_UPLOAD_BYTES < MAX_ARTICLE_BYTES
    big = b"a" * (MAX_UPLOAD_BYTES + 1)
    assert "2 MB" in _refusal(big, "big.txt", limit=MAX_UPLOAD_BYTES)
    assert decode_article(b"Police in Pristina. " + b"a" * MAX_UPLOAD_BYTES,
                          name="ok.txt")  # the CLI limit is larger


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(MAX_ARTICLE_BYTES + 1)  # sparse: no 25 MB written
    with pytest.raises(InputError, match="larger than the 25 MB limit"):
        read_article(huge)


def test_fifo_and_directory_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def read() -> None:
        try:
            read_article(fifo)
        except InputError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert outcome and "not a regular file" in outcome[0]
    with pytest.raises(InputError, match="is a directory"):
        read_article(tmp_path)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    secret = tmp_path / "secret.txt"
    secret.write_text("Police in Pristina.")
    secret.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        read_article(secret)


def test_display_name_keeps_messages_on_one_line() -> None:
    assert display_name("a\nb\x1b[31m\u202ec.txt") == "a\\nb\\x1b[31m\\u202ec.txt"
    assert len(display_name("x" * 5000)) == 200
    assert display_name("Zvečan 🙂.txt") == "Zvečan 🙂.txt"
    evil = "evil\n\x1b[2Jname.txt"
    with pytest.raises(InputError) as info:
        decode_article(b"", name=evil)
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message and "evil\\n" in message


# --------------------------------------------------------------------------- manifests


def _corpus(tmp_path: Path, manifest: bytes, files: dict[str, bytes] | None = None) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    for name, data in (files or {"a.txt": b"Police in Pristina said on Monday."}).items():
        (folder / name).write_bytes(data)
    (folder / "articles.csv").write_bytes(manifest)
    return folder


def test_hostile_manifest_rows_are_refused_one_line_each(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    shutil.copytree(HOSTILE, folder)
    (folder / "26_a_folder").mkdir()
    refused: list[str] = []
    articles = load_corpus(folder, refused=refused)
    assert [a.article_id for a in articles] == [n.rsplit(".", 1)[0] for n in sorted(ACCEPTED)]
    assert len(refused) == 23
    rows = (folder / "articles.csv").read_text(encoding="utf-8").splitlines()
    for line in refused:
        assert "\n" not in line and line.startswith(f"{folder / 'articles.csv'}:")
        number = int(line.split(":")[1])
        named = rows[number - 1].split(",")[0]
        assert (named or "(no file)") in line
    with pytest.raises(ManifestError, match=r"10_empty\.txt: the article is empty"):
        load_corpus(folder, strict=True)


def test_symlinks_out_of_the_folder_and_loops_are_refused(tmp_path: Path) -> None:
    folder = _corpus(tmp_path, b"file,outlet,published,title\n"
                     b"a.txt,X,2024-01-01,t\nsecret.txt,X,2024-01-01,t\nloop.txt,X,2024-01-01,t\n")
    (folder / "secret.txt").symlink_to("/etc/passwd")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    refused: list[str] = []
    assert [a.article_id for a in load_corpus(folder, refused=refused)] == ["a"]
    assert "outside the corpus folder" in refused[0]
    assert "loop.txt" in refused[1]


def test_control_characters_in_manifest_fields(tmp_path: Path) -> None:
    manifest = (
        'file,outlet,published,title\n'
        'a.txt,"Wire\x1b[31m\nTwo",2024-01-01,"Title\twith\u2028breaks' + " ." * 200 + '"\n'
        '"evil\x1b[2J.txt",X,2024-01-01,t\n'
    ).encode()  # a few control bytes in a longer file (many would make it "binary")
    refused: list[str] = []
    (article,) = load_corpus(_corpus(tmp_path, manifest), refused=refused)
    assert article.outlet == "Wire [31m Two"
    assert article.title.startswith("Title with breaks . .")
    assert len(refused) == 1 and "control characters" in refused[0]
    assert "\x1b" not in refused[0] and "\\x1b" in refused[0]


def test_unbalanced_quote_stops_the_load_instead_of_eating_rows(tmp_path: Path) -> None:
    manifest = (b'file,outlet,published,title\na.txt,"Reuters,2024-01-01,t\n'
                b"b.txt,AP,2024-01-01,t\nc.txt,AP,2024-01-01,t\n")
    with pytest.raises(ManifestError, match=r"malformed CSV.*quoting"):
        load_corpus(_corpus(tmp_path, manifest))


def test_overlong_title_is_refused(tmp_path: Path) -> None:
    manifest = b"file,outlet,published,title\na.txt,X,2024-01-01," + b"t" * 5000 + b"\n"
    refused: list[str] = []
    assert load_corpus(_corpus(tmp_path, manifest), refused=refused) == []
    assert "longer than 1000 characters" in refused[0]


@pytest.mark.parametrize(
    ("encoding", "bom"), [("cp1252", b""), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-8", b"")]
)
def test_manifest_encodings_as_spreadsheets_save_them(encoding: str, bom: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        text = "file,outlet,published,title\na.txt,Agence Française,2024-01-01,Été\n"
        folder = _corpus(Path(tmp), bom + text.encode(encoding))
        (article,) = load_corpus(folder)
    assert article.outlet == "Agence Française" and article.title == "Été"


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"file,outlet,published,title\na.txt,X,2024-01-01,t\x00\n", "NUL"),
        (b"name,date\nx.txt,2023-01-01\n", "missing column"),
        (b"", "missing column"),
    ],
)
def test_broken_manifests_are_one_line_errors(tmp_path: Path, manifest: bytes, reason: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_corpus(_corpus(tmp_path, manifest))
    assert reason in str(info.value) and "articles.csv" in str(info.value)
    assert "\n" not in str(info.value)


def test_header_only_manifest_lists_no_articles(tmp_path: Path) -> None:
    refused: list[str] = []
    assert load_corpus(_corpus(tmp_path, b"file,outlet,published,title\n"), refused=refused) == []
    assert "lists no articles" in refused[0]
