"""Build a notebook from a percent-format script, or the reverse (authoring aid).

    python scripts/py2nb.py notebooks/02_sft.py            # -> notebooks/02_sft.ipynb
    python scripts/py2nb.py notebooks/02_sft.ipynb         # -> notebooks/02_sft.py

Cells start with `# %%` (code), `# %% [markdown]` (markdown, lines prefixed `# `) or
`# %% tags=["parameters"]` (the papermill parameters cell). The .ipynb is the committed
source; outputs are never written.
"""

import json
import re
import sys
from pathlib import Path

import nbformat

HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def py_to_nb(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    cells, current = [], None
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            current = {
                "md": bool(m.group("md")),
                "tags": json.loads(m.group("tags") or "[]"),
                "lines": [],
            }
            cells.append(current)
        elif current is not None:
            current["lines"].append(line)
    for c in cells:
        body = "\n".join(c["lines"]).strip("\n")
        if c["md"]:
            body = "\n".join(
                line[2:] if line.startswith("# ") else line.lstrip("#")
                for line in body.splitlines()
            )
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if c["tags"]:
            cell.metadata["tags"] = c["tags"]
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):  # stable ids keep diffs small
        cell["id"] = f"cell-{i:02d}"
    return nb


def nb_to_py(nb) -> str:
    out = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        tag = f" tags={json.dumps(tags)}" if tags else ""
        if cell.cell_type == "markdown":
            out.append(f"# %% [markdown]{tag}")
            out.extend(("# " + line).rstrip() for line in cell.source.splitlines())
        else:
            out.append(f"# %%{tag}")
            out.extend(cell.source.splitlines())
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    src = Path(sys.argv[1])
    if src.suffix == ".py":
        dst = src.with_suffix(".ipynb")
        nbformat.write(py_to_nb(src.read_text()), dst)
    else:
        dst = src.with_suffix(".py")
        dst.write_text(nb_to_py(nbformat.read(src, as_version=4)))
    print(dst)
