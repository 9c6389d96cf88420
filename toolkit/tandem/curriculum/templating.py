"""Notebooks from the scaffold's text templates (package data in ``templates/``).

A template is a sequence of cells, each starting on a line
``%% md|code [grade_id [solution] [points=N] [objectives=a,b]]``; ``{name}`` is a
fill-in. A cell with a grade id gets nbgrader metadata (locked unless a solution; graded
when it has points) and, with ``objectives=``, Tandem's tag of the objectives it tests.
"""

from __future__ import annotations

import re
from importlib import resources

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def template(name: str) -> str:
    """A scaffold template shipped as package data."""
    return (resources.files("tandem.curriculum") / "templates" / name).read_text(encoding="utf-8")


def notebook(text: str, values: dict[str, str]) -> str:
    """The notebook ``text`` describes, fill-ins replaced by ``values``, as JSON text."""
    import nbformat  # imported here: nbformat's import costs ~1 s
    from nbformat import v4

    nb = v4.new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for number, chunk in enumerate(("\n" + text).split("\n%% ")[1:]):
        header, _, source = chunk.partition("\n")
        source = re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), source)
        kind, *grading = header.split()
        source = source.strip()
        cell = v4.new_markdown_cell(source) if kind == "md" else v4.new_code_cell(source)
        cell.id = grading[0].replace("_", "-") if grading else f"cell-{number:02d}"
        if grading:
            solution = "solution" in grading
            meta = {"grade": False, "grade_id": grading[0], "locked": not solution,
                    "schema_version": 3, "solution": solution}  # fmt: skip
            for word in grading[1:]:
                key, _, value = word.partition("=")
                if key == "points":
                    meta.update(grade=True, points=int(value))
                elif key == "objectives":
                    cell.metadata["tandem"] = {"objectives": value.split(",")}
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    nbformat.validate(nb)
    return str(nbformat.writes(nb)) + "\n"
