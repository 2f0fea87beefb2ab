"""The Chinese edition (notebooks/zh/) is the English notebooks with their markdown translated.

- Its code cells and outputs are the English ones, cell for cell: it is generated (`make zh`),
  never executed, and the committed twins are exactly what `make zh` builds.
- Every English markdown cell has a translation of its *current* text: a translation names the
  English cell by a hash of its text, so an edited English cell shows up as stale at once.
- The translations use docs/glossary.md's terms, and state the English cell's numbers.
- Cells only the Chinese edition has are marked as such, and their numbers are backed by outputs.
"""

import json
import re

import nbformat
import pytest

from bertlab import translation
from bertlab.translation import ZH, Block, Translation, cell_hash
from test_claims import Backing, claims_in

ENGLISH = translation.english_notebooks()
IDS = [p.stem for p in ENGLISH]
TWINS = [(p, ZH.notebooks / p.name) for p in ENGLISH]
TERMS = translation.glossary()


def read(path):
    return nbformat.read(path, as_version=4)


def tiny(*markdown: str):
    """A notebook of markdown cells, each followed by a code cell with an output."""
    cells = []
    for k, text in enumerate(markdown):
        cells.append(nbformat.v4.new_markdown_cell(text))
        cells.append(nbformat.v4.new_code_cell(f"print({k})", execution_count=k + 1,
                                               outputs=[nbformat.v4.new_output("stream", text=f"{k}\n")]))
    return nbformat.v4.new_notebook(cells=cells)


def tr_of(*pairs) -> Translation:
    """A translation file holding (English text, Chinese text) pairs, parsed back from its text."""
    blocks = [Block("translation", cell_hash(en), zh, 0) for en, zh in pairs]
    text = translation.render(Translation(translation.SOURCES / "zh" / "t.md", "<!-- t -->\n", blocks))
    return translation.parse(text)


# ------------------------------------------------------------------------------------------
# The committed edition
# ------------------------------------------------------------------------------------------

def test_every_english_notebook_has_a_chinese_twin_and_a_translation_file():
    assert len(ENGLISH) >= 11
    assert sorted(p.name for p in ZH.notebooks.glob("*.ipynb")) == [p.name for p in ENGLISH], "run `make zh`"
    assert sorted(p.name for p in ZH.translations.glob("*.md")) == [f"{p.stem}.md" for p in ENGLISH]


@pytest.mark.parametrize("english, twin", TWINS, ids=IDS)
def test_the_twin_has_the_english_code_cells_and_outputs_cell_for_cell(english, twin):
    en, zh = read(english), read(twin)
    code = lambda nb: [c for c in nb.cells if c.cell_type != "markdown"]   # noqa: E731
    assert code(zh) == code(en), "code cells, outputs and execution metadata are copied unchanged"
    added = [c for c in zh.cells if "zh-only" in c.metadata.get("tags", [])]
    assert len(zh.cells) == len(en.cells) + len(added)
    assert zh.metadata["bertlab"] == {"language": "zh-CN", "translates": f"../{english.name}"}


@pytest.mark.parametrize("english, twin", TWINS, ids=IDS)
def test_the_twin_is_what_make_zh_builds_from_the_english_notebook(english, twin):
    built = translation.translate(read(english), translation.load(english), ZH, english.stem)
    assert twin.read_text(encoding="utf-8") == nbformat.writes(built) + "\n", "run `make zh`"


@pytest.mark.parametrize("english", ENGLISH, ids=IDS)
def test_every_english_markdown_cell_has_a_translation_of_its_current_text(english):
    found = translation.problems(read(english), translation.load(english), english.stem)
    assert not found, ("cells whose English text has no current translation (edit sources/zh/"
                       f"{english.stem}.md; `python -m bertlab zh --todo` adds their English text):\n  "
                       + "\n  ".join(map(str, found)))


@pytest.mark.parametrize("english, twin", TWINS, ids=IDS)
def test_the_twin_opens_with_title_objectives_prerequisites_and_run_time(english, twin):
    first = next(c.source for c in read(twin).cells if c.cell_type == "markdown")
    assert re.match(rf"# {english.stem.split('_')[0]} · \S", first)
    for label in ("**你将学到**", "**前置知识：**", "**运行时间：**"):
        assert label in first, f"the first cell should carry {label}"


# ------------------------------------------------------------------------------------------
# Staleness: a changed English cell is never silently translated by its old text
# ------------------------------------------------------------------------------------------

def test_a_translation_names_its_english_cell_by_a_hash_of_the_text():
    assert cell_hash("## Title\n\nText.") == cell_hash("\n## Title  \n\nText.\n\n")
    assert cell_hash("## Title\n\nText.") != cell_hash("## Title\n\nText!")


def test_a_complete_translation_builds_and_copies_the_code_cells():
    nb = tiny("# 01 · Attention", "Some prose.")
    zh = translation.translate(nb, tr_of(("# 01 · Attention", "# 01 · 注意力"), ("Some prose.", "一些正文。")))
    assert [c.source for c in zh.cells if c.cell_type == "markdown"] == ["# 01 · 注意力", "一些正文。"]
    assert [c for c in zh.cells if c.cell_type == "code"] == [c for c in nb.cells if c.cell_type == "code"]


def test_an_edited_english_cell_is_reported_stale_with_its_old_translation():
    tr = tr_of(("# Title", "# 标题"), ("Accuracy is 0.73.", "准确率为 0.73。"))
    nb = tiny("# Title", "Accuracy is 0.75.")
    [problem] = translation.problems(nb, tr, "t")
    assert problem.what == "stale" and problem.cell == 2 and problem.old.hash == cell_hash("Accuracy is 0.73.")
    assert "changed since it was translated" in str(problem)
    with pytest.raises(ValueError, match="no current 中文 translation"):
        translation.translate(nb, tr)


def test_a_new_english_cell_is_reported_missing_and_a_todo_block_is_not_a_translation():
    tr = tr_of(("# Title", "# 标题"))
    nb = tiny("# Title", "New prose.")
    assert [p.what for p in translation.problems(nb, tr)] == ["missing"]
    todo = translation.with_todo(nb, tr)
    assert [(b.kind, b.text) for b in todo.blocks] == [("translation", "# 标题\n"), ("todo", "New prose.\n")]
    assert [p.what for p in translation.problems(nb, translation.parse(translation.render(todo)))] == ["todo"]


def test_todo_blocks_for_a_changed_cell_go_beside_its_old_translation():
    tr = tr_of(("# A", "# 甲"), ("Old b.", "旧乙。"), ("C.", "丙。"))
    todo = translation.with_todo(tiny("# A", "New b.", "C."), tr)
    assert [(b.kind, b.text.strip()) for b in todo.blocks] == [
        ("translation", "# 甲"), ("translation", "旧乙。"), ("todo", "New b."), ("translation", "丙。")]


def test_the_translation_file_round_trips_and_rejects_empty_or_duplicate_blocks():
    for path in sorted(ZH.translations.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert translation.render(translation.parse(text, path)) == text, path.name
    with pytest.raises(ValueError, match="is empty"):
        translation.parse(f"<!-- en {cell_hash('x')} -->\n\n<!-- en {cell_hash('y')} -->\ny\n")
    with pytest.raises(ValueError, match="a second translation"):
        translation.parse(f"<!-- en {cell_hash('x')} -->\n甲\n\n<!-- en {cell_hash('x')} -->\n乙\n")


def test_an_added_cell_must_say_it_is_an_addition():
    nb = tiny("# Title")
    text = f"<!-- en {cell_hash('# Title')} -->\n# 标题\n\n<!-- zh-only -->\n### 补充：没有标明\n"
    with pytest.raises(ValueError, match="中文版补充"):
        translation.translate(nb, translation.parse(text))
    ok = translation.translate(nb, translation.parse(text.replace("补充：没有标明", "中文版补充：分词")))
    assert [c.metadata.get("tags") for c in ok.cells] == [None, ["zh-only"], None]
    # after-code: after the code cells that follow the cell before it, so it can discuss their outputs
    later = translation.translate(nb, translation.parse(text.replace("补充：没有标明", "中文版补充：分词")
                                                        .replace("zh-only", "zh-only after-code")))
    assert [(c.cell_type, c.metadata.get("tags")) for c in later.cells] == [
        ("markdown", None), ("code", None), ("markdown", ["zh-only"])]


# ------------------------------------------------------------------------------------------
# Terminology and numbers
# ------------------------------------------------------------------------------------------

def test_the_glossary_gives_one_chinese_form_for_the_core_terms():
    chinese = {t.english[0]: t.chinese for t in TERMS}
    assert {"self-attention": "自注意力", "multi-head attention": "多头注意力",
            "masked language model": "掩码语言模型", "next sentence prediction": "下一句预测",
            "fine-tuning": "微调", "token": "词元", "tokenization": "分词", "pooling": "池化",
            "distillation": "蒸馏", "quantization": "量化", "whole-word masking": "全词掩码"}.items() <= chinese.items()
    forms = [e.lower() for t in TERMS for e in t.english]
    assert len(forms) == len(set(forms)), "an English term appears in two rows"


def test_the_term_check_bites():
    assert translation.term_problems("We fine-tune the encoder.", "我们微调编码器。", TERMS) == []
    assert translation.term_problems("We fine-tune the encoder.", "我们精调编码器。", TERMS) == [
        "the English says “fine-tune”: the translation must say 微调", "“精调” is not the glossary's term: use 微调"]
    # an avoided form inside the glossary's own form is not a departure (段嵌入 in 片段嵌入)
    assert translation.term_problems("A segment embedding.", "片段嵌入。", TERMS) == []
    assert translation.term_problems("A segment embedding.", "段嵌入。", TERMS)[-1].startswith("“段嵌入”")
    # code, maths and special tokens are not prose: `attention_mask` and [MASK] ask for no term
    assert translation.term_problems("Pass `attention_mask`; [MASK] is id 103.", "传入 `attention_mask`。", TERMS) == []


@pytest.mark.parametrize("english", ENGLISH, ids=IDS)
def test_translations_use_the_glossary_terms_and_state_the_english_numbers(english):
    found = translation.content_problems(english)
    assert not found, ("departures from docs/glossary.md or from the English cell's numbers:\n  "
                       + "\n  ".join(found))


def test_the_number_check_bites():
    assert translation.number_problems("Accuracy 0.73 (95% CI) over 3 seeds.", "三个种子的准确率为 0.73（95% 置信区间）。") == []
    assert translation.number_problems("Accuracy 0.73, 30.7× faster.", "准确率为 0.78，快 30.7×，共 2 次。") == [
        "the English states 0.73: the translation does not",
        "the translation states 0.78, which the English cell does not (write counts the English spells out in "
        "words as Chinese numerals)",
        "the translation states 2, which the English cell does not (write counts the English spells out in "
        "words as Chinese numerals)"]


# ------------------------------------------------------------------------------------------
# What only the Chinese edition says
# ------------------------------------------------------------------------------------------

ADDITIONS = {  # notebook -> what its Chinese-only cells must teach (issue #18)
    "02_bert_encoder": ["BiLSTM"],
    "03_pretraining": ["全词掩码"],
    "04_finetuning": ["TutorialDataset"],
    "06_multilingual": ["tokenize_chinese_chars", "bert-base-chinese", "hfl/chinese-bert-wwm-ext"],
}


@pytest.mark.parametrize("stem, needs", ADDITIONS.items(), ids=list(ADDITIONS))
def test_the_chinese_only_cells_teach_what_the_english_text_has_nothing_to_say_about(stem, needs):
    twin = read(ZH.notebooks / f"{stem}.ipynb")
    added = "\n".join(c.source for c in twin.cells if "zh-only" in c.metadata.get("tags", []))
    assert added, f"{stem}: no Chinese-only cell"
    for word in needs:
        assert word in added, f"{stem}'s Chinese-only cells should mention {word}"


@pytest.mark.parametrize("english, twin", TWINS, ids=IDS)
def test_numbers_in_chinese_only_cells_are_backed_by_the_notebooks_outputs(english, twin):
    nb = json.loads(twin.read_text(encoding="utf-8"))
    backing = Backing()
    backing.add_notebook(nb)
    unbacked = [(i, c.token) for i, cell in enumerate(nb["cells"]) if "zh-only" in cell["metadata"].get("tags", [])
                for c in claims_in("".join(cell["source"])) if not backing.backs(c)]
    assert not unbacked, f"numbers no output of {twin.name} shows (cite them as (Author et al., YEAR)): {unbacked}"


def test_the_chinese_teachers_guide_translates_the_current_english_guide():
    guides = translation.translated_documents()
    assert [p.name for p in guides] == ["teaching.zh-CN.md"]
    assert translation.document_problems() == []
    assert translation.DOC_MARK_RE.search(guides[0].read_text(encoding="utf-8"))["source"] == "teaching.md"


def test_a_changed_english_guide_makes_its_translation_stale(tmp_path, monkeypatch):
    (tmp_path / "teaching.md").write_text("# Guide\n")
    (tmp_path / "teaching.zh-CN.md").write_text(translation.document_mark(tmp_path / "teaching.md") + "\n# 指南\n")
    monkeypatch.setattr(translation, "DOCS", tmp_path)
    assert translation.document_problems() == []
    (tmp_path / "teaching.md").write_text("# Guide, edited\n")
    [problem] = translation.document_problems()
    assert "teaching.md changed since it was translated" in problem


def test_cli_status_says_every_cell_is_translated(capsys):
    from bertlab.__main__ import main

    assert main(["zh", "--status"]) == 0
    assert "every cell is translated" in capsys.readouterr().out


def test_cli_refuses_a_notebook_that_does_not_exist_and_names_the_ones_that_do(capsys):
    from bertlab.__main__ import main

    assert main(["zh", "42", "--status"]) == 2
    err = capsys.readouterr().err
    assert "no notebook 42" in err and "04b" in err
